/** Assembles the dependencies from a validated config, listens, sweeps, and shuts down cleanly. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SqlAuditLog } from '../audit/audit-log.js';
import { ConfigError, type ServerConfig } from '../config/server-config.js';
import { ACTIVE_KEY, adoptActiveKey } from '../crypto/active-key.js';
import { Keyring, type KeyringSource, loadKeys } from '../crypto/keyring.js';
import type { MasterKey } from '../crypto/payload-cipher.js';
import { PayloadCipher } from '../crypto/payload-cipher.js';
import { errors } from '../errors/api-error.js';
import { buildApp, DEFAULT_LIMITS, type HealthCheck, outcomeOf } from '../http/build-app.js';
import { handleClientError, handleUnsupportedRequest } from '../http/client-errors.js';
import { IdempotencyGuard } from '../http/idempotency.js';
import { RateLimiter } from '../http/rate-limiter.js';
import { KeyAuthority } from '../keys/api-keys.js';
import type { Logger } from '../logging/logger.js';
import { Metrics } from '../metrics/metrics.js';
import { createIdGenerator } from '../secrets/secret-id.js';
import { SecretsService } from '../secrets/secrets-service.js';
import { SqlApiKeyStore } from '../store/api-key-store.js';
import { isUnavailableError, openPostgres, openSqlite, type StoreEngine } from '../store/engine.js';
import { SqlIdempotencyStore } from '../store/idempotency-store.js';
import { MetaStore } from '../store/meta-store.js';
import { migrateToLatest, migrationsCurrent } from '../store/migrations.js';
import { SqlSecretStore } from '../store/sql-secret-store.js';
import { loadDashboardAssets } from './dashboard-assets.js';
import { keyringSource } from './keyring-source.js';

export interface RunningServer {
  readonly url: string;
  /** The storage engine, for the startup line (never a password). */
  readonly storage: string;
  /** Where /metrics is served, when a metrics port was configured. */
  readonly metricsUrl: string | undefined;
  readonly server: Server;
  close(): Promise<void>;
}

type StoreConfig = Pick<
  ServerConfig,
  | 'databaseFile'
  | 'sqliteSynchronous'
  | 'databaseUrl'
  | 'dbPoolSize'
  | 'dbStatementTimeoutMs'
  | 'dbConnectTimeoutMs'
  | 'dbPreparedStatements'
  | 'migrate'
>;

/** Opens the configured engine without touching the schema. */
export function openEngine(config: Omit<StoreConfig, 'migrate'>): Promise<StoreEngine> {
  return config.databaseUrl
    ? openPostgres({
        url: config.databaseUrl,
        poolSize: config.dbPoolSize,
        statementTimeoutMs: config.dbStatementTimeoutMs,
        connectTimeoutMs: config.dbConnectTimeoutMs,
        preparedStatements: config.dbPreparedStatements,
      })
    : openSqlite({ file: config.databaseFile, synchronous: config.sqliteSynchronous });
}

/** Opens the configured engine and brings its schema up to date (or checks it is, with migrate off). */
export async function openStore(config: StoreConfig): Promise<StoreEngine> {
  const engine = await openEngine(config);
  try {
    if (config.migrate) await migrateToLatest(engine);
    else if (!(await migrationsCurrent(engine))) {
      throw new ConfigError("the database schema is not up to date: run 'secret-store migrate' first");
    }
    return engine;
  } catch (error) {
    await engine.close();
    throw error;
  }
}

export interface StartOptions {
  /** Milliseconds since the epoch; tests inject a clock they move. Default: Date.now. */
  readonly clock?: () => number;
}

export async function startServer(
  config: ServerConfig,
  logger: Logger,
  options: StartOptions = {},
): Promise<RunningServer> {
  const engine: StoreEngine = await openStore(config);
  try {
    return await listen(config, engine, logger, options.clock ?? Date.now);
  } catch (error) {
    await engine.close();
    throw error;
  }
}

async function listenOn(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${shown}:${address.port}`;
}

/** Stops accepting, lets in-flight requests finish (up to `graceMs`), then drops what is left. */
function drain(server: Server, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}

async function listen(
  config: ServerConfig,
  engine: StoreEngine,
  logger: Logger,
  clock: () => number,
): Promise<RunningServer> {
  const keyring = await openKeyring(config, engine, logger);
  const meta = new MetaStore(engine.db);

  const cipher = new PayloadCipher(keyring);
  const store = new SqlSecretStore(engine);
  const secrets = new SecretsService({ store, cipher, clock, newId: createIdGenerator(clock) });
  const classifyError = (error: unknown) => (isUnavailableError(error) ? errors.storageUnavailable() : undefined);
  const idempotency = new IdempotencyGuard(
    new SqlIdempotencyStore(engine),
    cipher,
    clock,
    outcomeOf(logger, classifyError),
  );
  const metrics = new Metrics(() => store.countByMode());
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
  const app = buildApp({
    secrets,
    keys: new KeyAuthority(new SqlApiKeyStore(engine.db), { emulator: config.emulator }),
    idempotency,
    limits: { ...DEFAULT_LIMITS, maxBodyBytes: config.maxBodyBytes },
    logger,
    classifyError,
    audit: new SqlAuditLog(engine),
    health,
    dashboard: config.dashboard ? loadDashboardAssets() : undefined,
    rateLimiter: config.rateLimit
      ? new RateLimiter({ testPerSecond: config.rateLimitTest, livePerSecond: config.rateLimitLive })
      : undefined,
    clock,
    onRequest(event) {
      metrics.observeRequest(event);
      logger.request({
        request_id: event.requestId,
        operation: event.operation,
        method: event.method,
        status: event.status,
        code: event.code,
        latency_ms: Math.round(event.latencyMs * 100) / 100,
        key_id: event.keyId ?? (event.keyId === null ? 'emulator' : undefined),
        livemode: event.livemode,
        replayed: event.replayed || undefined,
      });
    },
  });

  // Slow clients must not hold the server: a request must arrive whole within requestTimeoutMs and
  // its headers within headersTimeoutMs (checked every second), idle connections close after
  // keepAliveTimeoutMs, and headers are capped at maxHeaderBytes.
  const server = createServer(
    {
      connectionsCheckingInterval: 1000,
      maxHeaderSize: config.maxHeaderBytes,
      requestTimeout: config.requestTimeoutMs,
    },
    app.handle,
  );
  // A client may shut down its sending side once its request is out (raw sockets, `nc`, some
  // proxies). Node's default then ends the connection at once and the answer to a request still
  // waiting for the database is lost, although the write went through; with half-open connections
  // allowed, the answer is sent and the connection closed after it.
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  server.headersTimeout = Math.min(config.headersTimeoutMs, config.requestTimeoutMs);
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  server.on('clientError', handleClientError);
  server.on('connect', handleUnsupportedRequest);
  server.on('upgrade', handleUnsupportedRequest);
  const url = await listenOn(server, config.port, config.host);

  let metricsServer: Server | undefined;
  let metricsUrl: string | undefined;
  if (config.metricsPort !== undefined) {
    metricsServer = createMetricsServer(metrics, health);
    try {
      metricsUrl = await listenOn(metricsServer, config.metricsPort, config.metricsHost);
    } catch (error) {
      await drain(server, 0);
      throw error;
    }
  }

  const sweep = async () => {
    try {
      const removed = await secrets.sweepExpired();
      await idempotency.prune();
      metrics.observeSweep(removed);
      if (removed > 0) logger.info(`expiry sweep removed ${removed} expired secret(s)`);
    } catch (error) {
      logger.error('expiry sweep failed', { error: error instanceof Error ? error.message : String(error) });
    }
  };
  const timer = setInterval(sweep, config.sweepIntervalSeconds * 1000);
  timer.unref();
  void sweep();
  const keyTimer = setInterval(
    () => void followActiveKey(meta, keyring, keyringSource(config, false), logger),
    config.keyPollSeconds * 1000,
  );
  keyTimer.unref();

  let closing: Promise<void> | undefined;
  return {
    url,
    metricsUrl,
    storage: engine.description,
    server,
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        clearInterval(keyTimer);
        await Promise.all([
          drain(server, config.shutdownGraceSeconds * 1000),
          metricsServer && drain(metricsServer, 0),
        ]);
        await engine.close();
      })();
      return closing;
    },
  };
}

/** /metrics (Prometheus text format) and the health checks, on their own listener. */
function createMetricsServer(metrics: Metrics, health: HealthCheck): Server {
  return createServer((req, res) => {
    const path = req.url?.split('?', 1)[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-cache, no-store' });
      res.end(body);
    };
    const answer = async () => {
      if (req.method === 'GET' && path === '/metrics') return send(200, metrics.contentType, await metrics.render());
      if (req.method === 'GET' && path === '/healthz') return send(200, 'application/json', '{"status":"ok"}');
      if (req.method === 'GET' && path === '/readyz') {
        const check = await health.ready();
        return send(
          check.ready ? 200 : 503,
          'application/json',
          JSON.stringify({ status: check.ready ? 'ready' : 'unavailable', detail: check.detail }),
        );
      }
      send(
        404,
        'application/json',
        '{"error":{"type":"invalid_request_error","code":"resource_missing","message":"Only /metrics, /healthz and /readyz are served here."}}',
      );
    };
    answer().catch(() =>
      send(
        500,
        'application/json',
        '{"error":{"type":"api_error","code":"internal_error","message":"metrics failed"}}',
      ),
    );
  });
}

/** Loads the keyring and checks it against the database's active key (failing boot on a mismatch). */
export async function openKeyring(
  config: ServerConfig,
  engine: Pick<StoreEngine, 'db'>,
  logger: Logger,
): Promise<Keyring> {
  const loaded = loadKeys(keyringSource(config, true));
  if (loaded.generatedAt) {
    logger.warn(
      `generated a new master key at ${loaded.generatedAt} (mode 0600); back it up: without it no payload can be read`,
    );
  }
  const keyring = new Keyring(loaded.keys);
  const first = loaded.keys[0] as MasterKey;
  await adoptActiveKey(new MetaStore(engine.db), keyring, first.id);
  if (keyring.active.id !== first.id) {
    logger.warn(
      `the first key of the keyring (${first.id}) is not active yet; run 'secret-store rotate-key --resume' to activate it and re-encrypt`,
    );
  }
  return keyring;
}

/**
 * Follows a rotation done by `secret-store rotate-key` (possibly on another instance): when the
 * database names another active key, re-read the key source for it and seal with it from then on.
 */
async function followActiveKey(meta: MetaStore, keyring: Keyring, source: KeyringSource, logger: Logger) {
  try {
    const id = await meta.get(ACTIVE_KEY);
    if (id === undefined || id === keyring.active.id) return;
    if (!keyring.has(id)) keyring.add(loadKeys(source).keys);
    if (!keyring.has(id)) {
      logger.error(
        `the active master key ${id} is not in this server's keyring; still sealing with ${keyring.active.id}`,
      );
      return;
    }
    keyring.activate(id);
    logger.info(`now sealing with master key ${id}`);
  } catch (error) {
    logger.error('could not check the active master key', {
      error: error instanceof Error ? error.message : String(error),
    });
  }
}
