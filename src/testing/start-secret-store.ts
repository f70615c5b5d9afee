/**
 * `startSecretStore` (README, "Testing your app"): the real server (wire, validation, encryption,
 * audit) in the test's own process, on a free port, in memory, with a clock the test moves.
 */
import type { SecretFixture } from '../app/secret-fixture.js';
import { resolveServerConfig } from '../config/server-config.js';
import { jsonLogger, type Logger } from '../logging/logger.js';
import { startServer } from '../server/start-server.js';
import { ManualClock } from './manual-clock.js';

export interface SecretStoreOptions {
  /** Secrets to start with, and to get back at each reset: entries, or the path of a fixtures file. */
  readonly fixtures?: readonly SecretFixture[] | string;
  /** Where the store's clock starts: unix seconds or a Date. Default: now. */
  readonly startAt?: number | Date;
  /** Forward everything but the Secret Store to this URL (stripe-mock, for example). */
  readonly upstream?: string;
  /** Where the server's log goes, as JSON lines (`process.stdout`, a file stream...). Default: nowhere. */
  readonly log?: LogSink;
}

/** Anything with a `write` for text: a Node stream will do. */
export interface LogSink {
  write(text: string): unknown;
}

/** What stripe-node needs to talk to the store: `new Stripe(key, store.stripeOptions)`. */
export interface StripeOptions {
  readonly host: string;
  readonly port: number;
  readonly protocol: 'http';
}

/** The store's clock: it stands still until the test moves it. */
export interface StoreClock {
  /** Unix seconds, as the store sees them. */
  now(): number;
  /** Moves the store's time forward by whole seconds (for every platform); answers the new time. */
  advance(seconds: number): Promise<number>;
}

export interface TestSecretStore {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  readonly stripeOptions: StripeOptions;
  readonly clock: StoreClock;
  /** Forgets every secret, idempotency record and audit row, then stores the fixtures again. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

/** A logger that writes nothing, for a store nobody reads the log of. */
const silent: Logger = { request() {}, info() {}, warn() {}, error() {}, flush() {} };

export async function startSecretStore(options: SecretStoreOptions = {}): Promise<TestSecretStore> {
  const clock = new ManualClock(options.startAt);
  const fromFile = typeof options.fixtures === 'string';
  // The process's environment is not read: a test store is the same wherever the tests run.
  const config = resolveServerConfig(
    {
      host: HOST,
      port: 0,
      memory: true,
      emulator: true,
      dashboard: false,
      shutdownGraceSeconds: 0,
      upstream: options.upstream,
      fixtures: fromFile ? (options.fixtures as string) : undefined,
    },
    {},
  );
  // pino writes a line at a time through `write`, all it needs of a stream.
  const logger = options.log ? jsonLogger(options.log as NodeJS.WritableStream) : silent;
  const running = await startServer(config, logger, {
    clock: clock.nowMs,
    fixtures: fromFile ? undefined : (options.fixtures as readonly SecretFixture[] | undefined),
  });
  const { testTools } = running.composition;
  const port = Number(new URL(running.url).port);
  return {
    url: running.url,
    port,
    stripeOptions: { host: HOST, port, protocol: 'http' },
    clock: {
      now: () => clock.now(),
      advance: async (seconds) => clock.advance(seconds),
    },
    async reset() {
      await testTools?.reset();
    },
    close: () => running.close(),
  };
}
