/**
 * The one place where SQLite and PostgreSQL differ. Everything above this file writes portable kysely
 * queries; what cannot be portable (opening, pragmas, serialising writers of one scope) lives here.
 */
import { mkdirSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  Kysely,
  type SqliteDatabase as KyselySqliteDatabase,
  type PostgresCursor,
  PostgresDialect,
  type PostgresPool,
  type PostgresPoolClient,
  type PostgresQueryResult,
  SqliteDialect,
  type SqliteStatement,
  sql,
} from 'kysely';
import type pg from 'pg';
import { redactDatabaseUrl } from './database-url.js';
import { type DirectRunner, isPreparedSql, runDirectly } from './prepared-query.js';
import type { Database, Db } from './schema.js';
import { translateDriverError } from './store-errors.js';

export type EngineKind = 'sqlite' | 'postgres';

/** A column rows are appended to, with the PostgreSQL type its values are read as. */
export interface AppendColumn {
  readonly name: string;
  readonly type: 'bigint' | 'integer' | 'text';
}

/** Appends `rows`, each a value per column in the order the appender was made with. */
export type AppendRows = (rows: ReadonlyArray<readonly unknown[]>) => Promise<void>;

/**
 * What the schema needs to know of an engine, asked instead of its name: the migrations write one
 * schema from these.
 */
export interface EngineCapabilities {
  /** The column type of byte strings. */
  readonly bytesType: 'blob' | 'bytea';
  /** An integer primary key the database numbers itself: the type, and whether it needs AUTOINCREMENT. */
  readonly autoIncrementKey: { readonly type: 'integer' | 'bigserial'; readonly autoIncrement: boolean };
  /** The collation that orders text byte by byte, where the default collation does not. */
  readonly bytewiseCollation?: string;
  /**
   * The index method for equality lookups on text of any length, where the default btree cannot
   * hold long values (PostgreSQL's refuses index rows over 2,704 bytes).
   */
  readonly longTextIndexMethod?: 'hash';
}

export interface StoreEngine {
  readonly kind: EngineKind;
  readonly capabilities: EngineCapabilities;
  readonly db: Db;
  /** A short description for the startup line, never containing a password. */
  readonly description: string;
  /**
   * The schema the migration bookkeeping tables live in (PostgreSQL's current schema). Without it,
   * kysely would take such tables in any other schema of the database for ours.
   */
  readonly migrationSchema?: string;
  /**
   * Where the engine does it better than a transaction: makes a function that appends rows to
   * `table` (names from code, never from input) in one statement that commits on its own.
   * PostgreSQL passes one array per column and unnests them in order, so a batch of any size is one
   * prepared statement and one round trip instead of BEGIN, a few inserts and COMMIT. Undefined on
   * SQLite, whose writes do best inside the group commit.
   */
  readonly appender?: (table: string, columns: readonly AppendColumn[]) => AppendRows;
  /** Runs `fn` on one consistent snapshot of the database, while writers carry on. */
  readSnapshot<T>(fn: (trx: Db) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` in a write transaction. Transactions given the same `lockKey` run one at a time, across
   * every server instance, so "check the cap, then insert" cannot race. SQLite needs no lock: one
   * connection per process and BEGIN IMMEDIATE serialise all writers.
   */
  writeTransaction<T>(fn: (trx: Db) => Promise<T>, lockKey?: string): Promise<T>;
  /**
   * Takes the lock `writeTransaction(fn, lockKey)` takes, inside a write transaction already open
   * (a unit of work that writes several things, see unit-of-work.ts). Released at its end.
   */
  lockWithin(trx: Db, lockKey: string): Promise<void>;
  /** The whole database as bytes, to open copies of it (`SqliteOptions.image`); SQLite in memory only. */
  readonly snapshot?: () => Buffer;
  close(): Promise<void>;
}

/** Where a driver threw: the store's own error for it (see store-errors.ts). */
const rethrow = (error: unknown): never => {
  throw translateDriverError(error);
};

/** A better-sqlite3 statement whose errors arrive translated. */
function translatingStatement(statement: SqliteStatement): SqliteStatement {
  return {
    reader: statement.reader,
    all(parameters) {
      try {
        return statement.all(parameters);
      } catch (error) {
        return rethrow(error);
      }
    },
    run(parameters) {
      try {
        return statement.run(parameters);
      } catch (error) {
        return rethrow(error);
      }
    },
    iterate(parameters) {
      try {
        return statement.iterate(parameters);
      } catch (error) {
        return rethrow(error);
      }
    },
  };
}

/**
 * kysely prepares every query anew; with better-sqlite3 preparing costs about as much as running a
 * point query. Queries of one shape compile to the same SQL text, so their statements are reused.
 */
function withStatementCache(native: KyselySqliteDatabase, max = 500): KyselySqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => native.close(),
    prepare(text: string): SqliteStatement {
      let statement = cache.get(text);
      if (!statement) {
        try {
          statement = translatingStatement(native.prepare(text));
        } catch (error) {
          return rethrow(error);
        }
        if (cache.size >= max) cache.delete(cache.keys().next().value as string);
        cache.set(text, statement);
      }
      return statement;
    },
  };
}

/**
 * Runs prepared queries straight on a better-sqlite3 connection: the same SQL and statements kysely
 * would run, without its executor's per-query promises and connection hand-over, which cost about as
 * much as a point query. `readsOnly` leaves anything that is not a select to kysely.
 */
function statementRunner(statements: KyselySqliteDatabase, readsOnly: boolean): DirectRunner {
  return (text, parameters) => {
    const statement = statements.prepare(text);
    if (statement.reader) return { rows: statement.all(parameters) };
    if (readsOnly) return undefined;
    const { changes, lastInsertRowid } = statement.run(parameters);
    return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
  };
}

interface PendingWrite {
  readonly fn: (trx: Db) => Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Group commit for SQLite. SQLite has one writer, and committing each request alone caps writes at
 * a few hundred a second. Instead, the writes queued during one turn of the event loop run in one
 * BEGIN IMMEDIATE ... COMMIT, each inside its own savepoint: one commit for the batch, while a write
 * that fails rolls back alone. No caller hears "done" before the commit that contains its write is
 * durable (`afterCommit`, see WalSync).
 */
class GroupCommit {
  private queue: PendingWrite[] = [];
  private scheduled = false;

  constructor(
    private readonly db: Db,
    /** Resolves once everything committed so far is on disk. */
    private readonly afterCommit: () => Promise<void>,
    /** Runs the batch's prepared queries on the writing connection, which the batch holds. */
    private readonly writer: DirectRunner,
    private readonly maxBatch = 500,
  ) {}

  readonly run = <T>(fn: (trx: Db) => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.drain());
      }
    });

  private async drain(): Promise<void> {
    while (this.queue.length > 0) await this.commit(this.queue.splice(0, this.maxBatch));
    this.scheduled = false;
  }

  /**
   * Commits one batch, waits until it is durable, then settles its callers. The connection is free
   * while the batch waits, so reads carry on; writes queue up meanwhile and become the next batch,
   * which is how batches grow with the load.
   */
  private async commit(batch: PendingWrite[]): Promise<void> {
    let settled: Array<() => void>;
    try {
      settled = await this.db.connection().execute(async (conn) => {
        runDirectly(conn, this.writer);
        const done: Array<() => void> = [];
        try {
          await sql`begin immediate`.execute(conn);
          // A batch of one needs no savepoint: if it fails, the whole transaction rolls back below.
          if (batch.length === 1) {
            const [write] = batch as [PendingWrite];
            const value = await write.fn(conn);
            done.push(() => write.resolve(value));
          } else {
            for (const write of batch) done.push(await this.isolated(conn, write));
          }
          await sql`commit`.execute(conn);
          return done;
        } catch (error) {
          await sql`rollback`.execute(conn).catch(() => {});
          throw error;
        }
      });
      await this.afterCommit();
    } catch (thrown) {
      // Rolled back, or committed but not known to be on disk: no caller may hear "done".
      const error = translateDriverError(thrown);
      for (const write of batch) write.reject(error);
      return;
    }
    for (const settle of settled) settle();
  }

  /** Runs one write of a batch in a savepoint; its failure rolls back that write only. */
  private async isolated(conn: Db, write: PendingWrite): Promise<() => void> {
    await sql`savepoint write`.execute(conn);
    try {
      const value = await write.fn(conn);
      await sql`release write`.execute(conn);
      return () => write.resolve(value);
    } catch (error) {
      await sql`rollback to write`.execute(conn);
      await sql`release write`.execute(conn);
      return () => write.reject(error);
    }
  }
}

/**
 * Makes committed transactions durable without blocking the event loop. SQLite's own
 * synchronous=FULL calls fsync inside COMMIT, on the one thread that also answers every request;
 * instead the connection runs synchronous=NORMAL (a commit is written to the WAL, not yet synced)
 * and this syncs the WAL file from libuv's thread pool before any write is acknowledged. The
 * durability is FULL's: an acknowledged transaction is in the synced WAL, or a checkpoint has copied
 * it into the database file, which SQLite syncs before the WAL can be reused. Concurrent requests
 * share one sync: whoever asks while a sync runs waits for the next one, started after it.
 */
class WalSync {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private directorySynced = false;
  private wal: FileHandle | undefined;

  constructor(private readonly databaseFile: string) {}

  async close(): Promise<void> {
    const wal = this.wal;
    this.wal = undefined;
    await wal?.close().catch(() => {});
  }

  readonly request = (): Promise<void> => {
    if (!this.running) {
      this.running = this.syncNow().finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    // The running sync may have started before the caller's commit: it needs the next one.
    this.queued ??= this.running
      .catch(() => {})
      .then(() => {
        this.queued = undefined;
        return this.request();
      });
    return this.queued;
  };

  private async syncNow(): Promise<void> {
    try {
      // Kept open: opening and closing it around each sync took two more trips to the thread pool.
      // SQLite removes the WAL only when the last connection closes, and ours stay open until close.
      this.wal ??= await open(`${this.databaseFile}-wal`, 'r');
      await this.wal.datasync();
    } catch (error) {
      await this.close();
      // No WAL: the last connection closed and checkpointed it away; the database file holds all.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await syncFile(this.databaseFile);
    }
    if (!this.directorySynced) {
      // The WAL file is created by the first write; its directory entry must survive too.
      await syncFile(dirname(this.databaseFile));
      this.directorySynced = true;
    }
  }
}

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/** Runs `fn` in one deferred transaction on the writing connection: one consistent snapshot. */
function snapshotReader(db: Db, writer: DirectRunner): StoreEngine['readSnapshot'] {
  return (fn) =>
    db.connection().execute(async (conn) => {
      runDirectly(conn, writer);
      await sql`begin`.execute(conn);
      try {
        return await fn(conn);
      } finally {
        await sql`commit`.execute(conn);
      }
    });
}

/** The file name that opens SQLite in memory: nothing is written to disk, everything is gone at close. */
export const IN_MEMORY = ':memory:';

export interface SqliteOptions {
  /** The database file, or IN_MEMORY. */
  readonly file: string;
  /** In memory: a snapshot of another database in memory to start from, instead of an empty one. */
  readonly image?: Buffer;
  /**
   * FULL: a write is acknowledged once it is on disk, so it survives power loss. NORMAL: once it is
   * in the operating system's cache, so it survives a crash of the process only.
   */
  readonly synchronous?: 'FULL' | 'NORMAL';
}

const SQLITE_CAPABILITIES: EngineCapabilities = {
  bytesType: 'blob',
  autoIncrementKey: { type: 'integer', autoIncrement: true },
};

export async function openSqlite(options: SqliteOptions): Promise<StoreEngine> {
  if (options.file === IN_MEMORY) return openSqliteInMemory(options.image);
  mkdirSync(dirname(options.file), { recursive: true });
  const native = new SqliteDatabase(options.file);
  native.pragma('journal_mode = WAL');
  // Commits never fsync on the event loop; WalSync makes them durable when FULL is asked for.
  native.pragma('synchronous = NORMAL');
  // Another process (the CLI, a second server) may hold the write lock for a moment.
  native.pragma('busy_timeout = 5000');
  const durable = (options.synchronous ?? 'FULL') === 'FULL';
  const wal = durable ? new WalSync(options.file) : undefined;
  const walSync = wal ? wal.request : async () => {};
  const statements = withStatementCache(native);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: statements }) });
  const writer = statementRunner(statements, false);
  const reader = openReader(options.file);
  // Prepared selects on the store's database (a find, a key lookup, a page of a list) run on the
  // reader: outside any transaction, each sees everything committed, and never waits for a batch
  // of writes that holds the writing connection.
  runDirectly(db, statementRunner(withStatementCache(reader), true));
  return {
    kind: 'sqlite',
    capabilities: SQLITE_CAPABILITIES,
    db,
    description: `sqlite ${options.file}`,
    writeTransaction: new GroupCommit(db, walSync, writer).run,
    // One connection writes, and BEGIN IMMEDIATE already excludes every other writer.
    lockWithin: async () => {},
    // A deferred transaction in WAL mode reads one snapshot without blocking the server's writes.
    readSnapshot: snapshotReader(db, writer),
    // Writes made outside writeTransaction (a CLI command's, a sweep's) are durable once closed.
    close: async () => {
      await walSync().catch(() => {});
      await wal?.close();
      reader.close();
      await db.destroy();
    },
  };
}

/**
 * SQLite in memory (`serve --memory`, `startSecretStore`): one connection, since a second one would
 * open a database of its own. Reads go through kysely's connection lock like writes, so none runs
 * inside a batch of writes and sees what the batch has not committed yet. Nothing to sync.
 */
function openSqliteInMemory(image: Buffer | undefined): StoreEngine {
  const native = new SqliteDatabase(image ?? IN_MEMORY);
  const statements = withStatementCache(native);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: statements }) });
  const writer = statementRunner(statements, false);
  return {
    kind: 'sqlite',
    capabilities: SQLITE_CAPABILITIES,
    db,
    description: 'sqlite in memory',
    writeTransaction: new GroupCommit(db, async () => {}, writer).run,
    lockWithin: async () => {},
    readSnapshot: snapshotReader(db, writer),
    snapshot: () => native.serialize(),
    close: () => db.destroy(),
  };
}

/**
 * A second connection for reads. In WAL mode a reader never blocks the writer nor waits for it, and
 * a statement run outside a transaction sees every transaction committed before it started, so a
 * write that was acknowledged is always read back. query_only keeps it from ever writing.
 */
function openReader(file: string): SqliteDatabase.Database {
  const reader = new SqliteDatabase(file);
  reader.pragma('query_only = ON');
  reader.pragma('busy_timeout = 5000');
  return reader;
}

export interface PostgresOptions {
  readonly url: string;
  readonly poolSize: number;
  /** Statements running longer are cancelled by the server (statement_timeout). */
  readonly statementTimeoutMs: number;
  /** How long a request waits for a pooled connection before it fails with a 503. */
  readonly connectTimeoutMs: number;
  /**
   * Whether the hot selects are named prepared statements, parsed and planned once per connection
   * (the default). Off for a transaction-pooling PgBouncer older than 1.21, which cannot keep them.
   */
  readonly preparedStatements?: boolean;
}

/** int8 (bigint) columns hold unix seconds, well inside the safe integer range. */
const parseInt8 = (value: string) => Number(value);

export async function openPostgres(options: PostgresOptions): Promise<StoreEngine> {
  // Loaded only for PostgreSQL: a server on SQLite, the default, spares the memory (about 5 MB).
  const { default: postgres } = await import('pg');
  const pool = new postgres.Pool({
    connectionString: options.url,
    max: options.poolSize,
    statement_timeout: options.statementTimeoutMs,
    connectionTimeoutMillis: options.connectTimeoutMs,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === postgres.types.builtins.INT8
          ? parseInt8
          : postgres.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle connection that dies (database restarted) must not crash the process; the pool opens a
  // new one on the next query, so the server recovers by itself.
  pool.on('error', () => {});
  const named = options.preparedStatements ?? true;
  const names = named ? new StatementNames() : undefined;
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: translatingPool(pool, names) }) });
  if (names) runDirectly(db, namedStatementRunner(pool, names));
  let migrationSchema: string;
  try {
    const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
    migrationSchema = rows[0]?.schema ?? 'public';
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const lockStatement = (lockKey: string) =>
    `select pg_advisory_xact_lock(hashtextextended(${postgres.escapeLiteral(lockKey)}, 0))`;
  return {
    kind: 'postgres',
    capabilities: {
      bytesType: 'bytea',
      autoIncrementKey: { type: 'bigserial', autoIncrement: false },
      bytewiseCollation: 'C',
      longTextIndexMethod: 'hash',
    },
    db,
    migrationSchema,
    description: `postgres ${redactDatabaseUrl(options.url)}`,
    appender: (table, columns) => {
      const id = postgres.escapeIdentifier;
      const text =
        `insert into ${id(table)} (${columns.map((c) => id(c.name)).join(', ')}) ` +
        `select * from unnest(${columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ')})`;
      const name = names?.of(text);
      return async (rows) => {
        await pool.query({ name, text, values: columns.map((_, i) => rows.map((row) => row[i])) }).catch(rethrow);
      };
    },
    writeTransaction: (fn, lockKey) =>
      lockKey === undefined ? db.transaction().execute(fn) : lockedTransaction(db, lockStatement(lockKey), fn),
    lockWithin: async (trx, lockKey) => {
      await sql.raw(lockStatement(lockKey)).execute(trx);
    },
    readSnapshot: (fn) => db.transaction().setIsolationLevel('repeatable read').execute(fn),
    close: () => db.destroy(),
  };
}

/**
 * A transaction whose first statement takes a lock, sent with its BEGIN in one round trip (a simple
 * query may hold several statements; it cannot hold parameters, hence the escaped literal in
 * `lockStatement`). Writers of one scope queue on a transaction-scoped advisory lock, so the cap
 * check and the insert happen one writer at a time across every instance. With the store's single
 * occupancy query, a set costs four round trips (begin and lock, occupancy, upsert, commit), not
 * six. The lock comes after BEGIN in its own statement: under READ COMMITTED, each statement sees
 * what was committed when it began, so the statements after the lock see everything the previous
 * holder committed.
 */
function lockedTransaction<T>(db: Db, lockStatement: string, fn: (trx: Db) => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    let result: T;
    try {
      await sql.raw(`begin; ${lockStatement}`).execute(conn);
      result = await fn(conn);
    } catch (error) {
      await sql.raw('rollback').execute(conn);
      throw error;
    }
    await sql.raw('commit').execute(conn);
    return result;
  });
}

/**
 * The names of the statements PostgreSQL keeps prepared: one per SQL text, the same on every
 * connection, so a name never stands for two statements.
 */
class StatementNames {
  private readonly names = new Map<string, string>();

  of(text: string): string {
    let name = this.names.get(text);
    if (name === undefined) {
      name = `secret_store_${this.names.size}`;
      this.names.set(text, name);
    }
    return name;
  }
}

/**
 * Prepared queries run as named statements: PostgreSQL parses and plans each once per connection
 * instead of on every call, which let it answer about a fifth more finds, and as many more sets, on
 * the bench machine. Prepared selects made on the store's database (a find, a key lookup, a page of
 * a list) go straight to the pool, skipping kysely's executor.
 */
function namedStatementRunner(pool: pg.Pool, names: StatementNames): DirectRunner {
  return (text, parameters) => {
    if (!text.startsWith('select ')) return undefined;
    return pool
      .query({ name: names.of(text), text, values: [...parameters] })
      .then((result) => ({ rows: result.rows }), rethrow);
  };
}

/**
 * The pool kysely runs everything on (transactions above all): driver errors come out translated,
 * and, with `names`, the prepared queries' statements are named the same way as the runner's; other
 * SQL (migrations, the CLI's queries, BEGIN) goes through as it is.
 */
function translatingPool(pool: pg.Pool, names: StatementNames | undefined): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect().catch(rethrow);
      function query<R>(text: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
      function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
      // kysely streams through cursors, which nothing here asks for; they are passed through as they are.
      function query(text: string | PostgresCursor<unknown>, parameters?: ReadonlyArray<unknown>): unknown {
        if (typeof text !== 'string') return client.query(text as PostgresCursor<unknown> & pg.Submittable);
        const values = [...(parameters ?? [])];
        const named = names && isPreparedSql(text) ? { name: names.of(text), text, values } : { text, values };
        return client.query(named).catch(rethrow);
      }
      return { query, release: () => client.release() };
    },
    end: () => pool.end(),
  };
}

/** "No such table" on either engine: PostgreSQL's undefined_table, SQLite's message. */
export function isMissingTableError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (error as { code?: unknown }).code === '42P01' || /no such table/i.test(error.message);
}

/** PostgreSQL's invalid_schema_name: a schema named in a catalog scan was dropped meanwhile. */
export function isVanishedSchemaError(error: unknown): boolean {
  return error instanceof Error && (error as { code?: unknown }).code === '3F000';
}
