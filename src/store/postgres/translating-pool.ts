/**
 * The pool kysely runs everything on (transactions above all): driver errors come out translated
 * into the store's own (store-errors.ts); a connection a failure left unusable is closed, not handed
 * to the next request; and, with `names`, the prepared queries' statements are named as the pool
 * runner names them (named-statements.ts); BEGIN travels with the transaction's first statement
 * where it can. Other SQL (migrations, the CLI's queries) goes through as it is.
 */
import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pg from 'pg';
import { isPreparedSql } from '../prepared-query.js';
import { inlineParameters } from './inline-parameters.js';
import { rethrow, type StatementNames } from './named-statements.js';
import { breaksConnection } from './transactions.js';

/**
 * A BEGIN that may wait for the transaction's first statement: with its options and a pooler's
 * SET LOCAL, but not with a lock. PostgreSQL takes a transaction's snapshot at its first statement,
 * so holding back BEGIN alone changes nothing; a lock sent with BEGIN must be held when the caller
 * goes on (transactions.ts).
 */
const BEGIN = /^begin\b[^;]*(;\s*set local [^;]*)?$/i;
const END = /^(commit|rollback)\s*$/i;

/** The result of a statement not sent, as the driver would give for one without rows. */
const NOTHING = { command: '', rowCount: 0, oid: 0, fields: [], rows: [] };

export function translatingPool(
  pool: pg.Pool,
  names: StatementNames | undefined,
  escapeLiteral: (value: string) => string,
): PostgresPool {
  /** A prepared query's SQL with its values written in, or undefined where it cannot be. */
  const inlined = (text: string, values: readonly unknown[]): string | undefined => {
    if (!isPreparedSql(text)) return undefined;
    try {
      return inlineParameters(text, values, escapeLiteral);
    } catch {
      return undefined;
    }
  };
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect().catch(rethrow);
      // Set by a failure that leaves the connection unusable: the pool then closes it on release
      // instead of handing it to the next request, which would queue behind an unanswered query.
      let lost: Error | undefined;
      // A BEGIN not sent yet (see below).
      let pendingBegin: string | undefined;
      const run = (config: pg.QueryConfig) =>
        client.query(config).catch((error: unknown) => {
          if (breaksConnection(error)) lost = error instanceof Error ? error : new Error(String(error));
          return rethrow(error);
        });
      function query<R>(text: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
      function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
      // kysely streams through cursors, which nothing here asks for; they are passed through as they are.
      function query(text: string | PostgresCursor<unknown>, parameters?: ReadonlyArray<unknown>): unknown {
        if (typeof text !== 'string') return client.query(text as PostgresCursor<unknown> & pg.Submittable);
        const values = [...(parameters ?? [])];
        // BEGIN waits for the transaction's first statement, and both go in one simple query: a
        // round trip saved on every write. A statement without parameters (a write's scope lock,
        // transactions.ts) goes as it is; a prepared query (a delete's find, an idempotency claim)
        // with its values written in as literals (inline-parameters.ts). Any other statement goes
        // after BEGIN. A transaction that ran nothing sends nothing.
        if (BEGIN.test(text)) {
          pendingBegin = text;
          return Promise.resolve(NOTHING);
        }
        if (pendingBegin !== undefined) {
          const begin = pendingBegin;
          pendingBegin = undefined;
          if (END.test(text)) return Promise.resolve(NOTHING);
          const first = values.length === 0 ? text : inlined(text, values);
          if (first !== undefined) {
            return run({ text: `${begin}; ${first}` }).then((results) =>
              Array.isArray(results) ? results.at(-1) : results,
            );
          }
          return run({ text: begin }).then(() => query(text, parameters ?? []));
        }
        return run(names && isPreparedSql(text) ? { name: names.of(text), text, values } : { text, values });
      }
      return { query, release: () => client.release(lost) };
    },
    end: () => pool.end(),
  };
}
