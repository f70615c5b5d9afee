/**
 * What the store needs of a database engine. Everything above this interface writes portable kysely
 * queries; what cannot be portable (opening, pragmas, serialising the writers of one scope, running
 * prepared queries straight on a connection) is each engine's own, in `sqlite/` and `postgres/`.
 * Nothing asks which engine it has: what differs is described by the capabilities.
 */
import type { QueryResult } from 'kysely';
import type { Db } from './schema.js';

/** For the startup line and the readiness check's detail only: nothing branches on it. */
export type EngineKind = 'sqlite' | 'postgres';

/** A column rows are appended to, with the PostgreSQL type its values are read as. */
export interface AppendColumn {
  readonly name: string;
  readonly type: 'bigint' | 'integer' | 'text';
}

/** Appends `rows`, each a value per column in the order the appender was made with. */
export type AppendRows = (rows: ReadonlyArray<readonly unknown[]>) => Promise<void>;

/** What the schema and the writers need to know of an engine, asked instead of its name. */
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
  /**
   * Makes a function that appends rows to `table` (names from code, never from input) as one write
   * that commits on its own, all of them or none. PostgreSQL passes one array per column and
   * unnests them in order, so a batch of any size is one prepared statement and one round trip
   * instead of BEGIN, a few inserts and COMMIT. SQLite makes the batch one write of the group
   * commit. Undefined inside a unit of work, whose rows commit with it.
   */
  readonly bulkAppender?: (table: string, columns: readonly AppendColumn[]) => AppendRows;
}

/** A result now, where the engine ran the query synchronously, or later. */
export type MaybePromise<T> = T | Promise<T>;

export interface StoreEngine {
  readonly kind: EngineKind;
  readonly capabilities: EngineCapabilities;
  readonly db: Db;
  /** A short description for the startup line, never containing a password. */
  readonly description: string;
  /** What the operator should know of how the engine runs here, logged once at start. */
  readonly notice?: string;
  /**
   * The schema the migration bookkeeping tables live in (PostgreSQL's current schema). Without it,
   * kysely would take such tables in any other schema of the database for ours.
   */
  readonly migrationSchema?: string;
  /**
   * A number that changes whenever another process has committed to the database since it was last
   * read: SQLite's `data_version` on the writing connection, which this process's own commits leave
   * alone. With it, a store may keep what it read until someone else changes the database (the CLI
   * registering or revoking a key). Undefined where other instances share the database and telling
   * would cost a round trip (PostgreSQL): there every read goes to the database.
   */
  readonly externalChanges?: () => number;
  /**
   * Runs a prepared query's compiled SQL (see prepared-query.ts) on `db`, the engine's database or
   * one of its transactions: straight on a connection of the engine's where it knows a faster way
   * than kysely's executor, through kysely otherwise.
   */
  runPrepared(db: Db, sql: string, parameters: readonly unknown[]): MaybePromise<QueryResult<unknown>>;
  /**
   * Takes a write whose result nobody reads (a secret's upsert, an idempotency record's completion,
   * an audit row) to send with the next statement of `trx`, a write transaction of the engine's, in
   * the same round trip; at the latest that is its COMMIT. Anything the transaction runs after it
   * still sees it. Answers false where it does not, and the caller runs it now. PostgreSQL does
   * (postgres/translating-pool.ts): a round trip less for each. If the statement fails there, the
   * whole transaction rolls back, just as if it had failed on its own. SQLite has no round trips to
   * save.
   */
  readonly deferWrite?: (trx: Db, sql: string, parameters: readonly unknown[]) => Promise<boolean>;
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
