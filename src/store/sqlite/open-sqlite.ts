/**
 * The SQLite engine: one writing connection, serialised by the group commit and made durable off the
 * event loop (wal-sync.ts), and a second, read-only connection for the hot selects.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect, sql } from 'kysely';
import type { EngineCapabilities, StoreEngine } from '../engine.js';
import type { Database, Db } from '../schema.js';
import { GroupCommit } from './group-commit.js';
import { type StatementRunner, statementRunner, withStatementCache } from './statement-cache.js';
import { WalSync } from './wal-sync.js';

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

/**
 * How SQLite writes: through the group commit on the writing connection, whose control statements
 * run straight on it. `bulkAppender` makes a batch of rows one write of the group commit, inserted
 * one after the other with one prepared statement and no savepoint of their own (the write's
 * savepoint undoes them together); each row as a write of its own paid a savepoint, its release and
 * the promises of a write in the batch.
 */
function groupWrites(
  db: Db,
  afterCommit: () => Promise<void>,
  onWriter: StatementRunner,
): Pick<StoreEngine, 'writeTransaction' | 'capabilities'> {
  const writeTransaction = new GroupCommit(db, afterCommit, (text) => {
    onWriter(text, []);
  }).run;
  const capabilities: EngineCapabilities = {
    bytesType: 'blob',
    autoIncrementKey: { type: 'integer', autoIncrement: true },
    bulkAppender: (table, columns) => {
      const text = `insert into "${table}" (${columns.map((c) => `"${c.name}"`).join(', ')}) values (${columns.map(() => '?').join(', ')})`;
      return (rows) =>
        writeTransaction(async () => {
          for (const row of rows) onWriter(text, row);
        });
    },
  };
  return { writeTransaction, capabilities };
}

/** Runs `fn` in one deferred transaction on the writing connection: one consistent snapshot. */
function snapshotReader(db: Db): StoreEngine['readSnapshot'] {
  // A deferred transaction in WAL mode reads one snapshot without blocking the server's writes.
  return (fn) =>
    db.connection().execute(async (conn) => {
      await sql`begin`.execute(conn);
      try {
        return await fn(conn);
      } finally {
        await sql`commit`.execute(conn);
      }
    });
}

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
  const reader = openReader(options.file);
  const onWriter = statementRunner(statements, false);
  const onIdleWriter = statementRunner(statements, true);
  const onReader = statementRunner(withStatementCache(reader), true);
  const dataVersion = native.prepare('pragma data_version').pluck();
  // Read once per turn of the event loop: the requests answered in one turn arrived together, so
  // a commit elsewhere is seen by the first request read after it, at a fraction of the cost.
  let seenVersion: number | undefined;
  const forgetVersion = () => {
    seenVersion = undefined;
  };
  const externalChanges = () => {
    if (seenVersion === undefined) {
      seenVersion = dataVersion.get() as number;
      setImmediate(forgetVersion);
    }
    return seenVersion;
  };
  const { writeTransaction, capabilities } = groupWrites(db, walSync, onWriter);
  return {
    kind: 'sqlite',
    capabilities,
    db,
    description: `sqlite ${options.file}`,
    // Prepared selects on the engine's database (a find, a key lookup, a page of a list) run outside
    // any transaction, so each sees everything committed. While no batch of writes holds the writing
    // connection they run on it: its page cache stays warm, whereas every commit empties the
    // reader's, which then reads each page again. While a batch holds it (between the batch's
    // awaits), they run on the reader and never wait for the batch. Any other database is a
    // connection on the one writer, held by whoever passes it (a batch of the group commit, a
    // snapshot): everything it runs goes straight to the writer's statements.
    runPrepared: (target, text, parameters) =>
      (target === db
        ? (native.inTransaction ? onReader : onIdleWriter)(text, parameters)
        : onWriter(text, parameters)) ?? target.executeQuery(CompiledQuery.raw(text, [...parameters])),
    externalChanges,
    writeTransaction,
    // One connection writes, and BEGIN IMMEDIATE already excludes every other writer.
    lockWithin: async () => {},
    readSnapshot: snapshotReader(db),
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
 * open a database of its own. Prepared queries on the engine's database go through kysely's
 * connection lock like writes, so none runs inside a batch of writes and sees what the batch has not
 * committed yet; those of a batch run straight on the connection the batch holds. Nothing to sync.
 */
function openSqliteInMemory(image: Buffer | undefined): StoreEngine {
  const native = new SqliteDatabase(image ?? IN_MEMORY);
  const statements = withStatementCache(native);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: statements }) });
  const onWriter = statementRunner(statements, false);
  const { writeTransaction, capabilities } = groupWrites(db, async () => {}, onWriter);
  return {
    kind: 'sqlite',
    capabilities,
    db,
    description: 'sqlite in memory',
    runPrepared: (target, text, parameters) =>
      (target === db ? undefined : onWriter(text, parameters)) ??
      target.executeQuery(CompiledQuery.raw(text, [...parameters])),
    // Nothing but this process can reach a database in its memory.
    externalChanges: () => 0,
    writeTransaction,
    lockWithin: async () => {},
    readSnapshot: snapshotReader(db),
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
