/**
 * PostgreSQL transactions: a write to one scope holds a lock its writers queue on, and a transaction
 * whose connection stopped answering is abandoned, not rolled back.
 */
import { sql } from 'kysely';
import type { Db } from '../schema.js';
import { StoreUnavailableError } from '../store-errors.js';

/**
 * The statement that takes the lock of `lockKey`: a transaction-scoped advisory lock, so the cap
 * check and the insert of one scope happen one writer at a time across every instance. It goes in
 * the same simple query as BEGIN (see `transaction`), which can hold several statements but no
 * parameters, hence the escaped literal.
 */
export const lockStatement = (escapeLiteral: (text: string) => string) => (lockKey: string) =>
  `select pg_advisory_xact_lock(hashtextextended(${escapeLiteral(lockKey)}, 0))`;

/**
 * A transaction opened by `begin`, one simple query: BEGIN, and for a write to one scope its lock.
 * Inside a unit of work the lock is taken later (`lockWithin`), and the pool sends the BEGIN it held
 * back together with it (translating-pool.ts): either way BEGIN and the lock are one round trip.
 * The lock comes after BEGIN in its own statement: under READ COMMITTED,
 * each statement sees what was committed when it began, so the statements after the lock see
 * everything the previous holder committed.
 *
 * When the connection is lost (no answer within the query timeout, or closed), no ROLLBACK is
 * sent: it would wait as long again on a database that does not answer. The pool closes that
 * connection instead (translating-pool.ts), and PostgreSQL rolls back a transaction whose
 * connection closed.
 */
export function transaction<T>(db: Db, begin: string, fn: (trx: Db) => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    try {
      await sql.raw(begin).execute(conn);
      const result = await fn(conn);
      await sql.raw('commit').execute(conn);
      return result;
    } catch (error) {
      // A write held back and sent with COMMIT (translating-pool.ts) that failed left the
      // transaction open, aborted: roll it back too. After a failed COMMIT alone there is nothing
      // left to roll back, and PostgreSQL only warns.
      if (!(error instanceof StoreUnavailableError && breaksConnection(error.cause))) {
        await sql.raw('rollback').execute(conn);
      }
      throw error;
    }
  });
}

/**
 * Whether a driver's error leaves its connection unusable: any but an error the server sent (which
 * carries a severity), or a server error that ended the session.
 */
export function breaksConnection(driverError: unknown): boolean {
  const severity = (driverError as { severity?: unknown } | undefined)?.severity;
  return typeof severity !== 'string' || severity === 'FATAL' || severity === 'PANIC';
}
