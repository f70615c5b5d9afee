/** Opening the configured database and the master keyring: shared by `serve` and every CLI command. */
import { ConfigError, type ServerConfig } from '../config/server-config.js';
import { adoptActiveKey } from '../crypto/active-key.js';
import { Keyring, type LoadedKeys, loadKeys, newMasterKey } from '../crypto/keyring.js';
import type { MasterKey } from '../crypto/payload-cipher.js';
import type { Logger } from '../logging/logger.js';
import type { StoreEngine } from '../store/engine.js';
import { MetaStore } from '../store/meta-store.js';
import { migrateToLatest, migrationsCurrent } from '../store/migrations.js';
import { openPostgres } from '../store/postgres/open-postgres.js';
import { IN_MEMORY, openSqlite } from '../store/sqlite/open-sqlite.js';
import { keyringSource } from './keyring-source.js';

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

/** Opens the configured engine without touching the schema. */
export function openEngine(config: Omit<StoreConfig, 'migrate'>): Promise<StoreEngine> {
  return config.databaseUrl
    ? openPostgres({
        url: config.databaseUrl,
        poolSize: config.dbPoolSize,
        statementTimeoutMs: config.dbStatementTimeoutMs,
        queryTimeoutMs: config.dbQueryTimeoutMs,
        connectTimeoutMs: config.dbConnectTimeoutMs,
        preparedStatements: config.dbPreparedStatements,
      })
    : openSqlite({ file: config.memory ? IN_MEMORY : config.databaseFile, synchronous: config.sqliteSynchronous });
}

/** Opens the configured engine and brings its schema up to date (or checks it is, with migrate off). */
export async function openStore(config: StoreConfig): Promise<StoreEngine> {
  if (config.memory) return openInMemory();
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
  const loaded: LoadedKeys = config.memory ? { keys: [newMasterKey()] } : loadKeys(keyringSource(config, true));
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
