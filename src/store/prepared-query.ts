/**
 * Queries built once and run many times. kysely builds and compiles a query on every call, and on
 * SQLite that costs more than running the point query itself. A hot query is therefore written with
 * the builder once per store, with named slots where its values go; each call binds the values to
 * the compiled SQL and hands it to the engine (`StoreEngine.runPrepared`), which runs it straight
 * on a connection where it can. The builder still writes the SQL, so both engines keep one query
 * layer.
 */
import type { Compilable, QueryResult } from 'kysely';
import type { StoreEngine } from './engine.js';
import type { Db } from './schema.js';

/** Where a value goes: kysely passes it through to the compiled parameters untouched. */
class Slot {
  constructor(readonly name: string) {}
}

/**
 * Stand-ins for the values, typed as the values so the builder accepts them. They are only ever
 * given to the builder, which turns each into one bound parameter; `prepare` checks that it did.
 */
export type Slots<Params> = { readonly [K in keyof Params]: Params[K] };

export interface PreparedQuery<Params, Row> {
  /** Runs the query on `db` (the engine's database or a transaction of it) with these values. */
  execute(db: Db, params: Params): Promise<QueryResult<Row>>;
  /** The rows of a select. */
  rows(db: Db, params: Params): Promise<Row[]>;
  /**
   * A write whose result nobody reads, in the write transaction `db`: sent with the transaction's
   * next statement (at the latest its COMMIT) where the engine can (`StoreEngine.deferWrite`),
   * run now otherwise.
   */
  deferred(db: Db, params: Params): Promise<void>;
}

/**
 * The SQL of every prepared query. It is fixed by the code, so the set stays small; PostgreSQL keeps
 * these statements prepared on each connection (postgres/named-statements.ts), and no other SQL.
 */
const preparedSql = new Set<string>();

export const isPreparedSql = (text: string): boolean => preparedSql.has(text);

/** A query of `engine`'s, built by `build` from slots, compiled once. */
export function prepare<Params extends object, Row>(
  engine: Pick<StoreEngine, 'runPrepared' | 'deferWrite'>,
  build: (slots: Slots<Params>) => Compilable<Row>,
): PreparedQuery<Params, Row> {
  const slots = new Proxy({}, { get: (_target, name) => new Slot(String(name)) }) as Slots<Params>;
  const compiled = build(slots).compile();
  preparedSql.add(compiled.sql);
  const order = compiled.parameters.map((parameter) => {
    // A literal value compiled into the query would be bound for good: every value must be a slot.
    if (!(parameter instanceof Slot)) throw new Error(`prepared query has a value outside its slots: ${compiled.sql}`);
    return parameter.name as keyof Params;
  });
  const values = (params: Params) => order.map((name) => params[name]);
  const execute = async (db: Db, params: Params): Promise<QueryResult<Row>> =>
    (await engine.runPrepared(db, compiled.sql, values(params))) as QueryResult<Row>;
  return {
    execute,
    rows: async (db, params) => (await execute(db, params)).rows,
    deferred: async (db, params) => {
      if (!(await engine.deferWrite?.(db, compiled.sql, values(params)))) await execute(db, params);
    },
  };
}
