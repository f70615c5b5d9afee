/**
 * better-sqlite3 statements for kysely and for prepared queries: cached by SQL text, with their
 * errors translated into the store's own (store-errors.ts).
 */
import type { SqliteDatabase as KyselySqliteDatabase, QueryResult, SqliteStatement } from 'kysely';
import { translateDriverError } from '../store-errors.js';

/** Where a driver threw: the store's own error for it. */
export const rethrow = (error: unknown): never => {
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
export function withStatementCache(native: KyselySqliteDatabase, max = 500): KyselySqliteDatabase {
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

/** Runs compiled SQL on a connection at once, or answers undefined when it leaves the query to kysely. */
export type StatementRunner = (text: string, parameters: readonly unknown[]) => QueryResult<unknown> | undefined;

/**
 * Runs prepared queries straight on a better-sqlite3 connection: the same SQL and statements kysely
 * would run, without its executor's per-query promises and connection hand-over, which cost about as
 * much as a point query. `readsOnly` leaves anything that is not a select to kysely.
 */
export function statementRunner(statements: KyselySqliteDatabase, readsOnly: boolean): StatementRunner {
  return (text, parameters) => {
    const statement = statements.prepare(text);
    if (statement.reader) return { rows: statement.all(parameters) };
    if (readsOnly) return undefined;
    const { changes, lastInsertRowid } = statement.run(parameters);
    return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
  };
}
