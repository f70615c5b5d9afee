/**
 * Group commit for SQLite. SQLite has one writer, and committing each request alone caps writes at
 * a few hundred a second. Instead, the writes queued during one turn of the event loop run in one
 * BEGIN IMMEDIATE ... COMMIT, each inside its own savepoint: one commit for the batch, while a write
 * that fails rolls back alone. No caller hears "done" before the commit that contains its write is
 * durable (`afterCommit`, see wal-sync.ts).
 */
import type { Db } from '../schema.js';
import { StoreUnavailableError, translateDriverError } from '../store-errors.js';

/** Runs a statement without results (BEGIN, SAVEPOINT, COMMIT...) on the writing connection, now. */
export type ControlStatement = (text: string) => void;

interface PendingWrite {
  readonly fn: (trx: Db) => Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export class GroupCommit {
  private queue: PendingWrite[] = [];
  private scheduled = false;

  constructor(
    private readonly db: Db,
    /** Resolves once everything committed so far is on disk. */
    private readonly afterCommit: () => Promise<void>,
    /**
     * How BEGIN, SAVEPOINT, RELEASE, COMMIT and ROLLBACK run: straight on the connection the batch
     * holds. kysely would compile and schedule each as a query of its own; straight on the
     * connection they cost a fraction of that, and an audited find pays a savepoint and its
     * release in the batch it joins.
     */
    private readonly control: ControlStatement,
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
        const done: Array<() => void> = [];
        try {
          this.control('begin immediate');
          // A batch of one needs no savepoint: if it fails, the whole transaction rolls back below.
          if (batch.length === 1) {
            const [write] = batch as [PendingWrite];
            const value = await write.fn(conn);
            done.push(() => write.resolve(value));
          } else {
            for (const write of batch) done.push(await this.isolated(conn, write));
          }
          this.control('commit');
          return done;
        } catch (error) {
          try {
            this.control('rollback');
          } catch {
            // Nothing left to roll back (the failure ended the transaction): the first error counts.
          }
          throw error;
        }
      });
      await this.afterCommit().catch((error: unknown) => {
        // Committed, but not known to be on disk: unavailable, not refused, so that no caller takes
        // it for a write of its own that failed and writes it again (audit-log.ts).
        throw new StoreUnavailableError('the commit could not be made durable', { cause: error });
      });
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
    this.control('savepoint write');
    try {
      const value = await write.fn(conn);
      this.control('release write');
      return () => write.resolve(value);
    } catch (error) {
      this.control('rollback to write');
      this.control('release write');
      return () => write.reject(error);
    }
  }
}
