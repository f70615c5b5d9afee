/**
 * Server configuration: read once from flags and environment, validated with zod, then passed down.
 * Nothing else in the program reads process.env.
 */
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { z } from 'zod';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 12111;
export const DEFAULT_DATA_DIR = './data';

// Each check carries the whole expectation as its message, so an error reads "expected ..." once
// whichever check failed (see describeIssues).
const booleanText = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])], {
    error: 'expected true or false (or 1/0, yes/no)',
  })
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

const integer = (min: number, max: number) => {
  const error = `expected a whole number from ${min} to ${max}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};

/** Host names, from a comma-separated variable or repeated flags; compared lower-cased, no final dot. */
const hostNames = z
  .union([z.string(), z.array(z.string())], { error: 'expected host names separated by commas' })
  .transform((value) =>
    (Array.isArray(value) ? value : [value])
      .flatMap((v) => v.split(','))
      .map((v) => v.trim().toLowerCase().replace(/\.$/, ''))
      .filter((v) => v !== ''),
  )
  .pipe(z.array(z.string().regex(/^[a-z0-9._-]+$/, { error: 'expected host names (letters, digits, dots, dashes)' })));

const text = z.string().min(1, { error: 'expected a non-empty value' });
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `expected ${values.join(' or ')}` });

export const serverConfigSchema = z.object({
  host: text.default(DEFAULT_HOST),
  port: integer(0, 65535).default(DEFAULT_PORT),
  dataDir: text.default(DEFAULT_DATA_DIR),
  /** Unset means: on when listening on loopback only, off otherwise. */
  emulator: booleanText.optional(),
  /** In emulator mode, host names answered besides the loopback ones (see http/stages/check-host.ts). */
  allowHost: hostNames.default([]),
  masterKey: text.optional(),
  masterKeyFile: text.optional(),
  sweepIntervalSeconds: integer(1, 86_400).default(60),
  /** How often a server checks whether a key rotation switched the active master key. */
  keyPollSeconds: integer(1, 3600).default(2),
  maxBodyBytes: integer(1024, 16 * 1024 * 1024).default(256 * 1024),
  sqliteSynchronous: oneOf(['FULL', 'NORMAL']).default('FULL'),
  /** postgres://... selects PostgreSQL; unset means SQLite in the data dir. */
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//, { error: 'expected a postgres:// or postgresql:// URL' })
    .optional(),
  /** Run pending migrations at start (the default) or refuse to start until `secret-store migrate` ran. */
  migrate: booleanText.default(true),
  dbPoolSize: integer(1, 1000).default(10),
  /** PostgreSQL cancels a statement running longer (server side). */
  dbStatementTimeoutMs: integer(100, 600_000).default(5000),
  /** The client gives up on a statement unanswered this long (a frozen or unreachable server). */
  dbQueryTimeoutMs: integer(100, 600_000).default(6000),
  /** A request waits this long for a pooled connection, or a new one to open. */
  dbConnectTimeoutMs: integer(100, 600_000).default(3000),
  /**
   * Prepared queries as named prepared statements: auto (on a direct connection, off through a
   * pooler), on, or off (true and false are read as on and off).
   */
  dbPreparedStatements: z
    .union([z.boolean(), z.enum(['auto', 'on', 'off', 'true', 'false', '1', '0', 'yes', 'no'])])
    .transform((v): 'auto' | 'on' | 'off' => {
      if (v === 'auto' || v === 'on' || v === 'off') return v;
      return v === true || v === 'true' || v === '1' || v === 'yes' ? 'on' : 'off';
    })
    .default('auto'),
  /** Unset: JSON lines when stdout is not a terminal, plain lines when it is. */
  logFormat: oneOf(['json', 'pretty']).optional(),
  /** Serve /metrics (and the health checks) on this port; unset: no metrics listener. */
  metricsPort: integer(0, 65535).optional(),
  metricsHost: text.default(DEFAULT_HOST),
  /** Stripe-style rate limits per account (off by default, for fast local testing). */
  rateLimit: booleanText.default(false),
  rateLimitTest: integer(1, 1_000_000).default(25),
  rateLimitLive: integer(1, 1_000_000).default(100),
  requestTimeoutMs: integer(100, 600_000).default(30_000),
  headersTimeoutMs: integer(100, 600_000).default(10_000),
  keepAliveTimeoutMs: integer(100, 600_000).default(65_000),
  maxHeaderBytes: integer(1024, 1024 * 1024).default(16 * 1024),
  /** Keep everything in memory: SQLite in memory, a throwaway master key, nothing on disk. */
  memory: booleanText.default(false),
  /** A JSON file of secrets to load at start (emulator mode only; see app/fixtures.ts). */
  fixtures: z.string().min(1).optional(),
  /** Where requests the server does not answer itself are forwarded (see http/upstream.ts). */
  upstream: z
    .string()
    .regex(/^https?:\/\/[^/?#\s@]+(\/[^?#\s]*)?$/, 'must be an http:// or https:// URL, without credentials or a query')
    .refine((url) => URL.canParse(url), 'must be a valid URL')
    .optional(),
  /** Serve the web dashboard at /dashboard. */
  dashboard: booleanText.default(true),
  /** On SIGTERM, in-flight requests get this long to finish. */
  shutdownGraceSeconds: integer(0, 600).default(10),
});

export type ServerConfigInput = z.input<typeof serverConfigSchema>;

export interface ServerConfig extends Omit<z.output<typeof serverConfigSchema>, 'emulator'> {
  readonly emulator: boolean;
  readonly databaseFile: string;
  readonly masterKeyPath: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** Environment variables for each option; flags win over them. */
export const ENVIRONMENT: Record<keyof ServerConfigInput, string> = {
  host: 'SECRET_STORE_HOST',
  port: 'SECRET_STORE_PORT',
  dataDir: 'SECRET_STORE_DATA_DIR',
  emulator: 'SECRET_STORE_EMULATOR',
  allowHost: 'SECRET_STORE_ALLOW_HOST',
  masterKey: 'SECRET_STORE_MASTER_KEY',
  masterKeyFile: 'SECRET_STORE_MASTER_KEY_FILE',
  sweepIntervalSeconds: 'SECRET_STORE_SWEEP_INTERVAL_SECONDS',
  keyPollSeconds: 'SECRET_STORE_KEY_POLL_SECONDS',
  maxBodyBytes: 'SECRET_STORE_MAX_BODY_BYTES',
  sqliteSynchronous: 'SECRET_STORE_SQLITE_SYNCHRONOUS',
  databaseUrl: 'DATABASE_URL',
  migrate: 'SECRET_STORE_MIGRATE',
  dbPoolSize: 'SECRET_STORE_DB_POOL_SIZE',
  dbStatementTimeoutMs: 'SECRET_STORE_DB_STATEMENT_TIMEOUT_MS',
  dbQueryTimeoutMs: 'SECRET_STORE_DB_QUERY_TIMEOUT_MS',
  dbConnectTimeoutMs: 'SECRET_STORE_DB_CONNECT_TIMEOUT_MS',
  dbPreparedStatements: 'SECRET_STORE_DB_PREPARED_STATEMENTS',
  logFormat: 'SECRET_STORE_LOG_FORMAT',
  metricsPort: 'SECRET_STORE_METRICS_PORT',
  metricsHost: 'SECRET_STORE_METRICS_HOST',
  shutdownGraceSeconds: 'SECRET_STORE_SHUTDOWN_GRACE_SECONDS',
  dashboard: 'SECRET_STORE_DASHBOARD',
  rateLimit: 'SECRET_STORE_RATE_LIMIT',
  rateLimitTest: 'SECRET_STORE_RATE_LIMIT_TEST',
  rateLimitLive: 'SECRET_STORE_RATE_LIMIT_LIVE',
  requestTimeoutMs: 'SECRET_STORE_REQUEST_TIMEOUT_MS',
  headersTimeoutMs: 'SECRET_STORE_HEADERS_TIMEOUT_MS',
  keepAliveTimeoutMs: 'SECRET_STORE_KEEP_ALIVE_TIMEOUT_MS',
  maxHeaderBytes: 'SECRET_STORE_MAX_HEADER_BYTES',
  memory: 'SECRET_STORE_MEMORY',
  fixtures: 'SECRET_STORE_FIXTURES',
  upstream: 'SECRET_STORE_UPSTREAM',
};

export function fromEnvironment(env: NodeJS.ProcessEnv): ServerConfigInput {
  const input: Record<string, string> = {};
  for (const [option, variable] of Object.entries(ENVIRONMENT)) {
    const value = env[variable];
    if (value !== undefined && value !== '') input[option] = value;
  }
  return input as ServerConfigInput;
}

/**
 * The options `serve` takes as flags (the others are set by environment variable only). Boolean
 * options are named by the flag that changes their default.
 */
export const FLAGS: Partial<Record<keyof ServerConfigInput, string>> = {
  host: '--host',
  port: '--port',
  dataDir: '--data-dir',
  emulator: '--emulator/--no-emulator',
  allowHost: '--allow-host',
  masterKeyFile: '--master-key-file',
  databaseUrl: '--database-url',
  memory: '--memory',
  fixtures: '--fixtures',
  upstream: '--upstream',
  migrate: '--no-migrate',
  dbPoolSize: '--db-pool-size',
  dbStatementTimeoutMs: '--db-statement-timeout-ms',
  dbQueryTimeoutMs: '--db-query-timeout-ms',
  dbConnectTimeoutMs: '--db-connect-timeout-ms',
  dbPreparedStatements: '--db-prepared-statements',
  logFormat: '--log-format',
  metricsPort: '--metrics-port',
  metricsHost: '--metrics-host',
  dashboard: '--no-dashboard',
  rateLimit: '--rate-limit',
  rateLimitTest: '--rate-limit-test',
  rateLimitLive: '--rate-limit-live',
};

/** How a person changes an option: "--port or SECRET_STORE_PORT", or the variable alone. */
export const settingName = (option: keyof ServerConfigInput): string => {
  const flag = FLAGS[option];
  return flag ? `${flag} or ${ENVIRONMENT[option]}` : ENVIRONMENT[option];
};

/** Values never repeated in a message: a URL may hold a password, a key is a key. */
const UNSHOWN = new Set<string>(['databaseUrl', 'masterKey', 'upstream']);

const describeIssues = (error: z.ZodError, input: Record<string, unknown>): string =>
  error.issues
    .map((issue) => {
      const option = String(issue.path[0] ?? '') as keyof ServerConfigInput;
      const value = input[option];
      const shown = UNSHOWN.has(option) || value === undefined ? '' : ` '${String(value)}'`;
      return `invalid ${kebab(option)}${shown} (${settingName(option)}): ${issue.message}`;
    })
    .join('; ');

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export function resolveServerConfig(flags: ServerConfigInput, env: NodeJS.ProcessEnv): ServerConfig {
  const merged = { ...fromEnvironment(env), ...stripUndefined(flags) };
  const parsed = serverConfigSchema.safeParse(merged);
  if (!parsed.success) throw new ConfigError(describeIssues(parsed.error, merged));
  const config = parsed.data;
  const loopback = isLoopbackHost(config.host);
  if (config.emulator === true && !loopback) {
    throw new ConfigError(
      `emulator mode accepts any sk_test_ key, so it is only allowed on a loopback address, and ${config.host} is not one: listen on 127.0.0.1 (${settingName('host')}), or turn emulator mode off (${settingName('emulator')}) and register keys with 'secret-store keys create'`,
    );
  }
  if (config.masterKey && config.masterKeyFile && !config.memory) {
    throw new ConfigError(
      `the master key is given twice, as SECRET_STORE_MASTER_KEY and as a key file (${settingName('masterKeyFile')}): give one`,
    );
  }
  const emulator = config.emulator ?? loopback;
  if (config.fixtures !== undefined && !emulator) {
    throw new ConfigError(
      'fixtures (--fixtures or SECRET_STORE_FIXTURES) belong to test keys, which only emulator mode accepts',
    );
  }
  const dataDir = resolve(config.dataDir);
  const resolved: ServerConfig = {
    ...config,
    dataDir,
    emulator,
    databaseFile: join(dataDir, 'secret-store.db'),
    masterKeyPath: config.masterKeyFile ? resolve(config.masterKeyFile) : join(dataDir, 'master.key'),
  };
  return config.memory ? inMemory(resolved, flags) : resolved;
}

/**
 * `--memory`: SQLite in memory and a throwaway master key. Where the database or the key come from
 * is then moot; the environment's settings (a CI job may well set DATABASE_URL for the app under
 * test) give way to the flag, while contradicting flags are refused.
 */
function inMemory(config: ServerConfig, flags: ServerConfigInput): ServerConfig {
  const clash = (['databaseUrl', 'masterKeyFile', 'dataDir'] as const).find((option) => flags[option] !== undefined);
  if (clash) {
    throw new ConfigError(`--memory keeps everything in memory: it cannot be combined with --${kebab(clash)}`);
  }
  if (!config.emulator) {
    throw new ConfigError(
      '--memory needs emulator mode: no key can be registered in a database that lives in the server process',
    );
  }
  return { ...config, databaseUrl: undefined, masterKey: undefined, masterKeyFile: undefined };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
