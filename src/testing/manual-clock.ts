/**
 * A clock that stands still until it is moved, as Stripe's test clocks do: a test computes an
 * expiry from `now()` and the store sees exactly that time, however long the test takes. Whole
 * seconds, since the API speaks seconds.
 */
import { checkAdvance } from '../secrets/platform-clocks.js';

export class ManualClock {
  private ms: number;

  /** `startAt`: unix seconds (or a Date); now by default. */
  constructor(startAt: number | Date = new Date()) {
    const seconds = typeof startAt === 'number' ? startAt : Math.floor(startAt.getTime() / 1000);
    if (!Number.isSafeInteger(seconds) || seconds < 0) {
      throw new RangeError(`startAt must be a Date or whole unix seconds, not ${String(startAt)}`);
    }
    this.ms = seconds * 1000;
  }

  /** Unix seconds. */
  now(): number {
    return Math.floor(this.ms / 1000);
  }

  /** Milliseconds since the epoch: what the server's clock function returns. */
  readonly nowMs = (): number => this.ms;

  /** Moves the clock forward by whole seconds; answers the new time in unix seconds. */
  advance(seconds: number): number {
    checkAdvance(seconds);
    this.ms += seconds * 1000;
    return this.now();
  }

  /** Moves the clock forward by milliseconds, for what counts time more finely (rate limits). */
  advanceMs(milliseconds: number): void {
    if (!Number.isSafeInteger(milliseconds) || milliseconds < 0) {
      throw new RangeError(`a clock moves forward by whole milliseconds, not ${milliseconds}`);
    }
    this.ms += milliseconds;
  }
}
