/**
 * The SQLite engine: one writing connection, serialised by the group commit and made durable off the
 * event loop (wal-sync.ts), and a second, read-only connection for the hot selects.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect, sql } from 'kysely';
import type { StoreEngine } from '../engine.js';
import type { Database } from '../schema.js';
import { GroupCommit } from './group-commit.js';
import { statementRunner, withStatementCache } from './statement-cache.js';
import { WalSync } from './wal-sync.js';

export interface SqliteOptions {
  readonly file: string;
  /**
   * FULL: a write is acknowledged once it is on disk, so it survives power loss. NORMAL: once it is
   * in the operating system's cache, so it survives a crash of the process only.
   */
  readonly synchronous?: 'FULL' | 'NORMAL';
}

export async function openSqlite(options: SqliteOptions): Promise<StoreEngine> {
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
  const onReader = statementRunner(withStatementCache(reader), true);
  return {
    kind: 'sqlite',
    capabilities: { bytesType: 'blob', autoIncrementKey: { type: 'integer', autoIncrement: true } },
    db,
    description: `sqlite ${options.file}`,
    // Prepared selects on the engine's database (a find, a key lookup, a page of a list) run on the
    // reader: outside any transaction, each sees everything committed, and never waits for a batch
    // of writes that holds the writing connection. Any other database is a connection on the one
    // writer, held by whoever passes it (a batch of the group commit, a snapshot): everything it
    // runs goes straight to the writer's statements.
    runPrepared: (target, text, parameters) =>
      (target === db ? onReader(text, parameters) : onWriter(text, parameters)) ??
      target.executeQuery(CompiledQuery.raw(text, [...parameters])),
    writeTransaction: new GroupCommit(db, walSync).run,
    // One connection writes, and BEGIN IMMEDIATE already excludes every other writer.
    lockWithin: async () => {},
    // A deferred transaction in WAL mode reads one snapshot without blocking the server's writes.
    readSnapshot: (fn) =>
      db.connection().execute(async (conn) => {
        await sql`begin`.execute(conn);
        try {
          return await fn(conn);
        } finally {
          await sql`commit`.execute(conn);
        }
      }),
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
