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
/** Any BEGIN, a lock with it or not. */
const OPENS = /^begin\b/i;
const END = /^(commit|rollback)\s*$/i;
const ROLLBACK = /^rollback\s*$/i;

/**
 * The mark of a write held back to go with its transaction's next statement, at the latest its
 * COMMIT (`StoreEngine.deferWrite`): a prepared query, whose values the pool writes in as literals.
 */
export const AT_NEXT_STATEMENT = '/* with the next statement */ ';

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
      // Statements not sent yet, sent before the transaction's next one (see below): a BEGIN, and
      // writes held back to go with what follows (`AT_NEXT_STATEMENT`), written as literals.
      let held: string[] = [];
      let inTransaction = false;
      const run = (config: pg.QueryConfig) =>
        client.query(config).catch((error: unknown) => {
          if (breaksConnection(error)) lost = error instanceof Error ? error : new Error(String(error));
          return rethrow(error);
        });
      const lastResult = (results: unknown) => (Array.isArray(results) ? results.at(-1) : results);
      function query<R>(text: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
      function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
      // kysely streams through cursors, which nothing here asks for; they are passed through as they are.
      function query(text: string | PostgresCursor<unknown>, parameters?: ReadonlyArray<unknown>): unknown {
        if (typeof text !== 'string') return client.query(text as PostgresCursor<unknown> & pg.Submittable);
        const values = [...(parameters ?? [])];
        // BEGIN, and inside a transaction the writes whose results nobody reads, wait for the
        // transaction's next statement and go in one simple query with it: a round trip saved
        // each. That statement goes as it is when it has no parameters (a write's scope lock,
        // COMMIT), or with its values written in as literals when it is a prepared query (a
        // delete's find, an idempotency claim, see inline-parameters.ts); any other goes after
        // them. A transaction that ran nothing sends nothing.
        if (BEGIN.test(text)) {
          held = [text];
          inTransaction = true;
          return Promise.resolve(NOTHING);
        }
        if (OPENS.test(text)) inTransaction = true;
        if (text.startsWith(AT_NEXT_STATEMENT)) {
          const write = text.slice(AT_NEXT_STATEMENT.length);
          // Outside a transaction nothing may follow before the connection goes back, and a write
          // that cannot be written as literals needs its parameters: either one goes now.
          const literal = inTransaction ? inlined(write, values) : undefined;
          if (literal === undefined) return query(write, values);
          held.push(literal);
          return Promise.resolve(NOTHING);
        }
        const ending = END.test(text);
        if (ending) inTransaction = false;
        if (held.length > 0) {
          const pending = held;
          held = [];
          const sentNothing = BEGIN.test(pending[0] as string);
          if (ending) {
            // A rollback drops the held writes; one that ends a transaction which sent nothing,
            // or a commit of one that held nothing but its BEGIN, has nothing to end.
            const rollback = ROLLBACK.test(text);
            if (sentNothing && (rollback || pending.length === 1)) return Promise.resolve(NOTHING);
            if (rollback) return run({ text });
          }
          const next = values.length === 0 ? text : inlined(text, values);
          if (next !== undefined) return run({ text: [...pending, next].join('; ') }).then(lastResult);
          return run({ text: pending.join('; ') }).then(() => query(text, values));
        }
        return run(names && isPreparedSql(text) ? { name: names.of(text), text, values } : { text, values });
      }
      return { query, release: () => client.release(lost) };
    },
    end: () => pool.end(),
  };
}
