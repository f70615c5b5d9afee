/**
 * Prepared queries as named statements: PostgreSQL parses and plans each once per connection
 * instead of on every call, which let it answer about a fifth more finds, and as many more sets, on
 * the bench machine. Off where a pooler cannot keep them (see pooler.ts).
 */
import type { QueryResult } from 'kysely';
import type pg from 'pg';
import { translateDriverError } from '../store-errors.js';

/** Where the driver threw: the store's own error for it (store-errors.ts). */
export const rethrow = (error: unknown): never => {
  throw translateDriverError(error);
};

/**
 * The names of the statements PostgreSQL keeps prepared: one per SQL text, the same on every
 * connection, so a name never stands for two statements.
 */
export class StatementNames {
  private readonly names = new Map<string, string>();

  of(text: string): string {
    let name = this.names.get(text);
    if (name === undefined) {
      name = `secret_store_${this.names.size}`;
      this.names.set(text, name);
    }
    return name;
  }
}

/**
 * Runs a prepared select made on the engine's database (a find, a key lookup, a page of a list)
 * straight on the pool, skipping kysely's executor: named when `names` is given. Anything else is
 * left to kysely (undefined).
 */
export function poolSelectRunner(pool: pg.Pool, names: StatementNames | undefined) {
  return (text: string, parameters: readonly unknown[]): Promise<QueryResult<unknown>> | undefined => {
    if (!text.startsWith('select ')) return undefined;
    const values = [...parameters];
    const query = names ? { name: names.of(text), text, values } : { text, values };
    return pool.query(query).then((result) => ({ rows: result.rows }), rethrow);
  };
}
