/** The server's time in tests: frozen until the test moves it, so answers hold exactly what it computed. */
import { ManualClock } from '../../src/testing/manual-clock.js';

export interface TestClock {
  /** Unix seconds, as the server sees them. */
  now(): number;
  /** Milliseconds since the epoch: what the server's clock function returns. */
  nowMs(): number;
  advance(seconds: number): void;
  advanceMs(milliseconds: number): void;
}

/** The product's frozen clock (`startSecretStore` uses it too), in whole seconds. */
export function createTestClock(startMs = Date.now()): TestClock {
  return new ManualClock(Math.floor(startMs / 1000));
}
