/**
 * Serves the real server (startServer: real SQLite or PostgreSQL, real cipher, real audit) on port 0
 * inside the test process, with a clock the test moves. The handle has the shape of the spawned
 * harness (server-process.ts), so a suite moves over by swapping its import; time-dependent suites
 * use `clock` instead of waiting for the wall clock.
 */
import Stripe from 'stripe';
import { afterAll, beforeAll } from 'vitest';
import type { Stores } from '../../src/app/compose.js';
import { resolveServerConfig, type ServerConfig, type ServerConfigInput } from '../../src/config/server-config.js';
import { jsonLogger } from '../../src/logging/logger.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import { createSchema, type TestSchema, testEngine } from './postgres.js';
import { removeDir, tempDir } from './server-process.js';
import { createTestClock, type TestClock } from './test-clock.js';
import { TextSink } from './text-sink.js';

export { createKey, storeArgs } from './cli.js';
export { bearer, form, type RawResponse, raw, removeDir, tempDir } from './server-process.js';
export { createTestClock, type TestClock } from './test-clock.js';

export interface InProcessHandle {
  readonly port: number;
  readonly url: string;
  readonly dataDir: string;
  /** The PostgreSQL URL the server uses, when it runs on PostgreSQL. */
  readonly databaseUrl: string | undefined;
  readonly config: ServerConfig;
  readonly clock: TestClock;
  /** Where /metrics is served, when the config gives a metrics port (0 picks a free one). */
  readonly metricsUrl: string | undefined;
  /** Runs the expiry sweep (with the idempotency records' pruning) now, as its timer would. */
  sweep(): Promise<void>;
  /** The server's own stores, to look at what it stored on either engine. */
  readonly stores: Stores;
  /** Every log line the server wrote so far (JSON lines, as `--log-format json` writes them). */
  output(): string;
  /** Resolves once the server has logged `text`. */
  logged(text: string): Promise<void>;
  /** An official stripe-node client pointed at this server. */
  stripe(key?: string, config?: Stripe.StripeConfig): Stripe;
  stop(): Promise<void>;
}

export interface InProcessOptions {
  readonly dataDir?: string;
  /** Defaults to the engine of the vitest project (SQLite, or PostgreSQL in a fresh schema). */
  readonly engine?: 'sqlite' | 'postgres';
  /** A PostgreSQL URL to share between servers. */
  readonly databaseUrl?: string;
  /** Options as `serve` flags give them (e.g. `{ rateLimit: true }`). */
  readonly config?: ServerConfigInput;
  /** Environment variables as `serve` reads them (e.g. SECRET_STORE_MAX_HEADER_BYTES). */
  readonly env?: NodeJS.ProcessEnv;
}

export async function startInProcess(options: InProcessOptions = {}): Promise<InProcessHandle> {
  const dataDir = options.dataDir ?? tempDir();
  let schema: TestSchema | undefined;
  let databaseUrl = options.databaseUrl;
  if (!databaseUrl && (options.engine ?? testEngine()) === 'postgres') {
    schema = await createSchema('srv');
    databaseUrl = schema.url;
  }
  // SQLite commits without waiting for the disk (synchronous NORMAL) unless a test asks for FULL:
  // these suites are about the API, and a sync per write made them wait on the disk of a shared
  // machine. Durability across a crash is the spawned crash suites' subject, on the default FULL.
  const config = resolveServerConfig(
    { sqliteSynchronous: 'NORMAL', ...options.config, port: 0, dataDir, databaseUrl },
    options.env ?? {},
  );
  const lines = new TextSink();
  const clock = createTestClock();
  let running: RunningServer;
  try {
    running = await startServer(config, jsonLogger(lines), { clock: clock.nowMs });
  } catch (error) {
    await schema?.drop();
    throw error;
  }
  const port = Number(new URL(running.url).port);
  return {
    port,
    url: running.url,
    dataDir,
    databaseUrl,
    config,
    clock,
    metricsUrl: running.metricsUrl && `${running.metricsUrl}/metrics`,
    sweep: () => running.jobs.sweep(),
    stores: running.composition.stores,
    output: () => lines.text,
    logged: (text) => lines.written(text),
    stripe: (key = 'sk_test_123', stripeConfig = {}) =>
      new Stripe(key, { host: '127.0.0.1', port, protocol: 'http', ...stripeConfig }),
    async stop() {
      await running.close();
      await schema?.drop();
      schema = undefined;
    },
  };
}

/**
 * One in-process server for a whole test file: started in beforeAll, stopped (and its data removed)
 * in afterAll. The returned handle forwards to the running server.
 */
export function serverForFile(options: InProcessOptions = {}): InProcessHandle {
  let handle: InProcessHandle | undefined;
  beforeAll(async () => {
    handle = await startInProcess(options);
  });
  afterAll(async () => {
    await handle?.stop();
    if (handle && !options.dataDir) removeDir(handle.dataDir);
  });
  return new Proxy({} as InProcessHandle, {
    get(_, property) {
      if (!handle) throw new Error('the server of this file starts in beforeAll');
      const value = (handle as unknown as Record<string | symbol, unknown>)[property];
      return typeof value === 'function' ? value.bind(handle) : value;
    },
  });
}
