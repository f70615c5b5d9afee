/**
 * The time each platform's test mode sees. In emulator mode a test moves its platform's clock
 * forward (`POST /_secret_store/clock`, README "Testing your app") to see its secrets expire without
 * waiting; other platforms, and live mode always, keep the server's clock. A clock only moves
 * forward, so what has expired for the server (and what its sweep deletes) has expired for every
 * platform too.
 *
 * The offsets live in the server process: a restart puts every platform back on the server's clock.
 */

/** Milliseconds since the epoch. */
export type Clock = () => number;

/**
 * Milliseconds since the epoch as `owner` sees them; the server's clock without one. A plain Clock
 * is one too, for a server whose platforms all share its time.
 */
export type OwnedClock = (owner?: ClockOwner) => number;

/** Whose time it is: a platform, in one mode. */
export interface ClockOwner {
  readonly platform: string;
  readonly livemode: boolean;
}

/** The furthest a clock may be moved at once: a secret lives at most that long (see secret.ts). */
export const MAX_ADVANCE_SECONDS = 100 * 366 * 24 * 60 * 60;

/** Checks a move of a clock: forward, by whole seconds, at most MAX_ADVANCE_SECONDS at once. */
export function checkAdvance(seconds: number): void {
  if (!Number.isSafeInteger(seconds) || seconds < 0 || seconds > MAX_ADVANCE_SECONDS) {
    throw new RangeError(`a clock moves forward by 0 to ${MAX_ADVANCE_SECONDS} whole seconds, not ${seconds}`);
  }
}

export class PlatformClocks {
  private readonly offsets = new Map<string, number>();

  /** `base`: the server's clock, which every platform sees until its own is moved. */
  constructor(readonly base: Clock) {}

  /** Milliseconds since the epoch as `owner` sees them (an OwnedClock). */
  readonly at: OwnedClock = (owner) => {
    const now = this.base();
    if (!owner || owner.livemode || this.offsets.size === 0) return now;
    return now + (this.offsets.get(owner.platform) ?? 0);
  };

  /** Moves the test-mode clock of `platform` forward by whole seconds; answers its new time in seconds. */
  advance(platform: string, seconds: number): number {
    checkAdvance(seconds);
    this.offsets.set(platform, (this.offsets.get(platform) ?? 0) + seconds * 1000);
    return Math.floor(this.at({ platform, livemode: false }) / 1000);
  }
}
