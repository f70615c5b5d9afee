/** The server's time in tests: frozen until the test moves it, so answers hold exactly what it computed. */

export interface TestClock {
  /** Unix seconds, as the server sees them. */
  now(): number;
  /** Milliseconds since the epoch: what the server's clock function returns. */
  nowMs(): number;
  advance(seconds: number): void;
  advanceMs(milliseconds: number): void;
}

export function createTestClock(startMs = Date.now()): TestClock {
  // Whole seconds: the API speaks seconds, so tests compare with `now()` exactly.
  let ms = Math.floor(startMs / 1000) * 1000;
  return {
    now: () => Math.floor(ms / 1000),
    nowMs: () => ms,
    advance(seconds) {
      ms += seconds * 1000;
    },
    advanceMs(milliseconds) {
      ms += milliseconds;
    },
  };
}
