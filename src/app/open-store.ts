/**
 * Opening the configured database and the master keyring: shared by `serve` and every CLI command.
 * What fails here is the operator's to fix (a path, an address, a key), so failures come out as
 * StartupErrors naming the path or address and the setting that changes it.
 */
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { type ServerConfig, settingName } from '../config/server-config.js';
import { adoptActiveKey, WrongMasterKeyError } from '../crypto/active-key.js';
import { Keyring, type LoadedKeys, loadKeys, newMasterKey } from '../crypto/keyring.js';
import type { MasterKey } from '../crypto/payload-cipher.js';
import type { Logger } from '../logging/logger.js';
import type { StoreEngine } from '../store/engine.js';
import { MetaStore } from '../store/meta-store.js';
import { migrateToLatest, schemaState } from '../store/migrations.js';
import { redactDatabaseUrl } from '../store/postgres/database-url.js';
import { openPostgres } from '../store/postgres/open-postgres.js';
import { IN_MEMORY, openSqlite } from '../store/sqlite/open-sqlite.js';
import { DataDirInUseError, type DataDirLock, lockDataDir, prepareSqliteFiles } from '../store/sqlite/sqlite-files.js';
import { keyringSource } from './keyring-source.js';
import { reasonOf, StartupError } from './startup-error.js';

export type StoreConfig = Pick<
  ServerConfig,
  | 'databaseFile'
  | 'sqliteSynchronous'
  | 'databaseUrl'
  | 'dbPoolSize'
  | 'dbStatementTimeoutMs'
  | 'dbQueryTimeoutMs'
  | 'dbConnectTimeoutMs'
  | 'dbPreparedStatements'
  | 'migrate'
  | 'memory'
>;

export interface OpenOptions {
  /**
   * Take the SQLite data directory's server lock for as long as the engine is open (`serve`): one
   * server per data directory. CLI commands open without it and work beside a running server.
   */
  readonly exclusive?: boolean;
  /** Told when the data directory was open to others and has been made 0700. */
  readonly logger?: Pick<Logger, 'warn'>;
}

const DATA_DIR = settingName('dataDir');

/** Opens the configured engine without touching the schema. */
export async function openEngine(
  config: Omit<StoreConfig, 'migrate'>,
  options: OpenOptions = {},
): Promise<StoreEngine> {
  if (config.databaseUrl) {
    const url = config.databaseUrl;
    return postgresStep(url, () =>
      openPostgres({
        url,
        poolSize: config.dbPoolSize,
        statementTimeoutMs: config.dbStatementTimeoutMs,
        queryTimeoutMs: config.dbQueryTimeoutMs,
        connectTimeoutMs: config.dbConnectTimeoutMs,
        preparedStatements: config.dbPreparedStatements,
      }),
    );
  }
  if (config.memory) return openSqlite({ file: IN_MEMORY, synchronous: config.sqliteSynchronous });
  const file = config.databaseFile;
  const dir = dirname(file);
  try {
    const prepared = prepareSqliteFiles(file);
    if (prepared.dirModeBefore !== undefined) {
      options.logger?.warn(
        `the data directory ${dir} was open to other users (mode 0${prepared.dirModeBefore.toString(8)}); it is now 0700`,
      );
    }
  } catch (error) {
    if (isFile(dir)) {
      throw new StartupError(
        `cannot use ${dir} as the data directory: it is a file, not a directory; choose another with ${DATA_DIR}`,
      );
    }
    throw new StartupError(
      `cannot create the database ${file}: ${reasonOf(error)}; choose a writable data directory with ${DATA_DIR}`,
      { cause: error },
    );
  }
  let lock: DataDirLock | undefined;
  try {
    if (options.exclusive) lock = lockDataDir(dir);
    const engine = await openSqlite({ file, synchronous: config.sqliteSynchronous });
    if (!lock) return engine;
    const held = lock;
    return { ...engine, close: () => engine.close().finally(() => held.release()) };
  } catch (error) {
    lock?.release();
    if (error instanceof DataDirInUseError) {
      throw new StartupError(
        `${error.message}: stop it, or give this server another data directory with ${DATA_DIR} (SQLite serves one server per data directory; several servers share PostgreSQL, ${settingName('databaseUrl')})`,
      );
    }
    throw sqliteFailure(file, error);
  }
}

const sqliteFailure = (file: string, error: unknown) =>
  new StartupError(
    `cannot open the database ${file}: ${reasonOf(error)}; choose another data directory with ${DATA_DIR}`,
    { cause: error },
  );

/** Runs a step against PostgreSQL; a failure that PostgreSQL or the network caused names the server. */
async function postgresStep<T>(url: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (!hasCode(error)) throw error;
    throw new StartupError(
      `cannot use PostgreSQL at ${whereIs(url)}: ${reasonOf(error)}; check ${settingName('databaseUrl')}`,
      { cause: error },
    );
  }
}

const hasCode = (error: unknown): boolean =>
  typeof (error as { code?: unknown })?.code === 'string' || ((error as { cause?: unknown })?.cause ?? null) !== null;

/** host:port/database, never the user or password. */
function whereIs(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return redactDatabaseUrl(url);
  }
}

function isFile(path: string): boolean {
  try {
    return !statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Opens the configured engine and brings its schema up to date (or checks it is, with migrate off). */
export async function openStore(config: StoreConfig, options: OpenOptions = {}): Promise<StoreEngine> {
  if (config.memory) return openInMemory();
  const engine = await openEngine(config, options);
  const where = config.databaseUrl ? `PostgreSQL at ${whereIs(config.databaseUrl)}` : config.databaseFile;
  try {
    const step = <T>(fn: () => Promise<T>) =>
      config.databaseUrl
        ? postgresStep(config.databaseUrl, fn)
        : fn().catch((error: unknown) => {
            throw sqliteFailure(config.databaseFile, error);
          });
    // One read of where the schema stands; the migrations run only when some are pending.
    const { current, newer } = await step(() => schemaState(engine));
    if (newer.length > 0) {
      throw new StartupError(
        `the database schema of ${where} was migrated by a newer release of secret-store (${newer.join(', ')}): start that release, not this one`,
      );
    }
    if (!current && !config.migrate) {
      throw new StartupError(
        `the database schema of ${where} is not up to date: run 'secret-store migrate' first, or let the server migrate it (without --no-migrate, and SECRET_STORE_MIGRATE unset)`,
      );
    }
    if (!current) await step(() => migrateToLatest(engine));
    return engine;
  } catch (error) {
    await engine.close();
    throw error;
  }
}

/** An empty database in memory with the current schema, made by this process's migrations. */
let migratedImage: Buffer | undefined;

/**
 * A database in memory: the first one of the process is migrated, the next ones start as copies of
 * it, which spares each test store (`startSecretStore`) the migrations.
 */
async function openInMemory(): Promise<StoreEngine> {
  if (migratedImage) return openSqlite({ file: IN_MEMORY, image: migratedImage });
  const engine = await openSqlite({ file: IN_MEMORY });
  try {
    await migrateToLatest(engine);
  } catch (error) {
    await engine.close();
    throw error;
  }
  migratedImage = engine.snapshot?.();
  return engine;
}

/** Loads the keyring and checks it against the database's active key (failing boot on a mismatch). */
export async function openKeyring(
  config: ServerConfig,
  engine: Pick<StoreEngine, 'db'>,
  logger: Logger,
): Promise<Keyring> {
  // In memory, the key lives as long as the data it seals: nothing of either outlives the process.
  const loaded: LoadedKeys = config.memory ? { keys: [newMasterKey()] } : loadKeyring(config);
  if (loaded.generatedAt) {
    logger.warn(
      `generated a new master key at ${loaded.generatedAt} (mode 0600); back it up: without it no payload can be read`,
    );
  }
  const keyring = new Keyring(loaded.keys);
  const first = loaded.keys[0] as MasterKey;
  try {
    await adoptActiveKey(new MetaStore(engine.db), keyring, first.id);
  } catch (error) {
    if (!(error instanceof WrongMasterKeyError)) throw error;
    throw new StartupError(
      `${error.message}: start with the right key (${keySetting(config)}), or choose a new data directory with ${DATA_DIR}`,
    );
  }
  if (keyring.active.id !== first.id) {
    logger.warn(
      `the first key of the keyring (${first.id}) is not active yet; run 'secret-store rotate-key --resume' to activate it and re-encrypt`,
    );
  }
  return keyring;
}

const keySetting = (config: ServerConfig) =>
  config.masterKey ? 'SECRET_STORE_MASTER_KEY' : `${settingName('masterKeyFile')}, or SECRET_STORE_MASTER_KEY`;

/** The master keys, or a StartupError naming the key file (or variable) at fault. */
function loadKeyring(config: ServerConfig): LoadedKeys {
  try {
    return loadKeys(keyringSource(config, true));
  } catch (error) {
    const what =
      typeof (error as { code?: unknown }).code === 'string'
        ? `cannot ${config.masterKeyFile ? 'read' : 'read or create'} the master key file ${config.masterKeyPath}: ${reasonOf(error)}`
        : (error as Error).message;
    throw new StartupError(`${what}; give the master key with ${keySetting(config)}`, { cause: error });
  }
}
