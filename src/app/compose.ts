/**
 * The composition root: the one module that assembles the program's parts from a validated config,
 * an open database and a keyring. `serve` (server/start-server.ts) and every CLI command get their
 * stores and services here; nothing else constructs them.
 */
import { SqlAuditLog } from '../audit/audit-log.js';
import type { ServerConfig } from '../config/server-config.js';
import type { Keyring } from '../crypto/keyring.js';
import { PayloadCipher } from '../crypto/payload-cipher.js';
import { type App, buildApp } from '../http/build-app.js';
import type { HealthCheck } from '../http/health.js';
import { IdempotencyGuard } from '../http/idempotency-guard.js';
import { RateLimiter } from '../http/rate-limiter.js';
import type { WriteStores } from '../http/stages/execute.js';
import { DEFAULT_LIMITS } from '../http/stages/read-params.js';
import { Upstream } from '../http/upstream.js';
import { KeyAuthority } from '../keys/api-keys.js';
import { type Logger, requestLine } from '../logging/logger.js';
import { Metrics } from '../metrics/metrics.js';
import { PlatformClocks } from '../secrets/platform-clocks.js';
import { createIdGenerator } from '../secrets/secret-id.js';
import { SecretsService } from '../secrets/secrets-service.js';
import { SqlApiKeyStore } from '../store/api-key-store.js';
import type { StoreEngine } from '../store/engine.js';
import { SqlIdempotencyStore } from '../store/idempotency-store.js';
import { MetaStore } from '../store/meta-store.js';
import { migrationsCurrent } from '../store/migrations.js';
import { SqlSecretStore } from '../store/sql-secret-store.js';
import { UnitOfWork } from '../store/unit-of-work.js';
import { loadDashboardAssets } from './dashboard-assets.js';
import { TestTools } from './test-tools.js';

/** The stores over one database. */
export interface Stores {
  readonly engine: StoreEngine;
  readonly secrets: SqlSecretStore;
  readonly idempotency: SqlIdempotencyStore;
  readonly apiKeys: SqlApiKeyStore;
  readonly meta: MetaStore;
  readonly audit: SqlAuditLog;
}

export function composeStores(engine: StoreEngine): Stores {
  return {
    engine,
    secrets: new SqlSecretStore(engine),
    idempotency: new SqlIdempotencyStore(engine),
    apiKeys: new SqlApiKeyStore(engine),
    meta: new MetaStore(engine.db),
    audit: new SqlAuditLog(engine),
  };
}

/** The unit of work of a write request: the stores it writes, bound to its one transaction. */
export const composeUnitOfWork = (stores: Stores): UnitOfWork<WriteStores> =>
  new UnitOfWork<WriteStores>(stores.engine, (trx) => ({
    secrets: stores.secrets.within(trx),
    idempotency: stores.idempotency.within(trx),
    audit: stores.audit.within(trx),
  }));

/** Everything a running server is made of, short of its listeners and timers. */
export interface Composition {
  readonly stores: Stores;
  readonly secrets: SecretsService;
  readonly guard: IdempotencyGuard;
  readonly metrics: Metrics;
  readonly health: HealthCheck;
  readonly app: App;
  /** Milliseconds since the epoch. */
  readonly clock: () => number;
  /** The time of each platform's test mode, on top of `clock`. */
  readonly clocks: PlatformClocks;
  /** Who a key acts as. */
  readonly keys: KeyAuthority;
  /** The test tools; in emulator mode only. */
  readonly testTools: TestTools | undefined;
  /** Where unknown paths are forwarded (`--upstream`); its connections close with the server. */
  readonly upstream: Upstream | undefined;
}

export interface ComposeOptions {
  readonly engine: StoreEngine;
  readonly keyring: Keyring;
  readonly logger: Logger;
  /** Milliseconds since the epoch; tests inject a clock they move. */
  readonly clock: () => number;
}

export function composeServer(config: ServerConfig, options: ComposeOptions): Composition {
  const { engine, logger, clock } = options;
  const stores = composeStores(engine);
  const cipher = new PayloadCipher(options.keyring);
  const clocks = new PlatformClocks(clock);
  const secrets = new SecretsService({
    store: stores.secrets,
    cipher,
    clock: clocks.at,
    newId: createIdGenerator(clock),
  });
  const guard = new IdempotencyGuard(cipher, clocks.at);
  const unitOfWork = composeUnitOfWork(stores);
  const metrics = new Metrics(() => stores.secrets.countByMode(), {
    processMetrics: config.metricsPort !== undefined,
  });
  const health: HealthCheck = {
    async ready() {
      try {
        const current = await migrationsCurrent(engine);
        return { ready: current, detail: current ? `${engine.kind} reachable, schema current` : 'schema behind' };
      } catch {
        return { ready: false, detail: `${engine.kind} unreachable` };
      }
    },
  };
  const keys = new KeyAuthority(stores.apiKeys, { emulator: config.emulator });
  const testTools = config.emulator
    ? new TestTools({ engine, secretStore: stores.secrets, secrets, clocks })
    : undefined;
  const upstream = config.upstream === undefined ? undefined : new Upstream(config.upstream);
  const app = buildApp({
    secrets,
    keys,
    testTools,
    upstream,
    unitOfWork,
    guard,
    audit: stores.audit,
    limits: { ...DEFAULT_LIMITS, maxBodyBytes: config.maxBodyBytes },
    logger,
    clock: clocks.at,
    health,
    dashboard: config.dashboard ? loadDashboardAssets() : undefined,
    allowedHosts: config.emulator ? new Set(config.allowHost) : undefined,
    rateLimiter: config.rateLimit
      ? new RateLimiter({ testPerSecond: config.rateLimitTest, livePerSecond: config.rateLimitLive }, clock)
      : undefined,
    onRequest(record) {
      metrics.observeRequest(record);
      logger.request(requestLine(record));
    },
  });
  return { stores, secrets, guard, metrics, health, app, clock, clocks, keys, testTools, upstream };
}
