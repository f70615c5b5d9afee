/**
 * One unit of work per request: everything a write request stores (its idempotency record, the
 * secret's row, its audit row) commits in one write transaction, or none of it does. The stores
 * taking part are given an engine confined to that transaction; on SQLite the transaction is the
 * request's savepoint inside the group commit, on PostgreSQL its own BEGIN ... COMMIT.
 */
import type { StoreEngine } from './engine.js';
import type { Db } from './schema.js';

/**
 * `engine` confined to the open transaction `trx`: its reads and writes run on `trx`, a write
 * "transaction" is a plain call (taking its lock inside `trx`), and appends are plain inserts.
 */
export function withinTransaction(engine: StoreEngine, trx: Db): StoreEngine {
  return {
    kind: engine.kind,
    // Appends join the transaction as plain inserts: no bulk appender, which commits on its own.
    capabilities: Object.assign({}, engine.capabilities, { bulkAppender: undefined }),
    db: trx,
    runPrepared: engine.runPrepared,
    deferWrite: engine.deferWrite,
    description: engine.description,
    migrationSchema: engine.migrationSchema,
    readSnapshot: (fn) => fn(trx),
    writeTransaction: async (fn, lockKey) => {
      if (lockKey !== undefined) await engine.lockWithin(trx, lockKey);
      return fn(trx);
    },
    lockWithin: engine.lockWithin,
    close: async () => {},
  };
}

/** Stores that can take part in a unit of work. */
export interface TransactionBound<T> {
  /** The same store, running on the open transaction `trx`. */
  within(trx: Db): T;
}

export class UnitOfWork<Stores> {
  constructor(
    private readonly engine: StoreEngine,
    /** The stores of one unit of work, bound to its transaction. */
    private readonly bind: (trx: Db) => Stores,
  ) {}

  /** Runs `fn` with the stores bound to one write transaction; commits when it resolves. */
  write<T>(fn: (stores: Stores) => Promise<T>): Promise<T> {
    return this.engine.writeTransaction((trx) => fn(this.bind(trx)));
  }
}
