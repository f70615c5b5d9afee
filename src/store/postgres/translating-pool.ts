/**
 * The pool kysely runs everything on (transactions above all): driver errors come out translated
 * into the store's own (store-errors.ts); a connection a failure left unusable is closed, not handed
 * to the next request; and, with `names`, the prepared queries' statements are named as the pool
 * runner names them (named-statements.ts). Other SQL (migrations, the CLI's queries, BEGIN) goes
 * through as it is.
 */
import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pg from 'pg';
import { isPreparedSql } from '../prepared-query.js';
import { rethrow, type StatementNames } from './named-statements.js';
import { breaksConnection } from './transactions.js';

export function translatingPool(pool: pg.Pool, names: StatementNames | undefined): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect().catch(rethrow);
      // Set by a failure that leaves the connection unusable: the pool then closes it on release
      // instead of handing it to the next request, which would queue behind an unanswered query.
      let lost: Error | undefined;
      function query<R>(text: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
      function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
      // kysely streams through cursors, which nothing here asks for; they are passed through as they are.
      function query(text: string | PostgresCursor<unknown>, parameters?: ReadonlyArray<unknown>): unknown {
        if (typeof text !== 'string') return client.query(text as PostgresCursor<unknown> & pg.Submittable);
        const values = [...(parameters ?? [])];
        const named = names && isPreparedSql(text) ? { name: names.of(text), text, values } : { text, values };
        return client.query(named).catch((error: unknown) => {
          if (breaksConnection(error)) lost = error instanceof Error ? error : new Error(String(error));
          return rethrow(error);
        });
      }
      return { query, release: () => client.release(lost) };
    },
    end: () => pool.end(),
  };
}
