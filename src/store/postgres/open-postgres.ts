/**
 * The PostgreSQL engine: a pool of connections with bounded waits (acquire, statement and query
 * timeouts), named prepared statements, scope locks, and append batches in one statement.
 */
import { CompiledQuery, Kysely, PostgresDialect, sql } from 'kysely';
import type pg from 'pg';
import type { StoreEngine } from '../engine.js';
import type { Database } from '../schema.js';
import { redactDatabaseUrl } from './database-url.js';
import { poolSelectRunner, rethrow, StatementNames } from './named-statements.js';
import {
  describeConnection,
  namesStatements,
  PooledPostgresDialect,
  type PreparedStatementsMode,
  probeConnection,
} from './pooler.js';
import { lockStatement, transaction } from './transactions.js';
import { AT_NEXT_STATEMENT, translatingPool } from './translating-pool.js';

export interface PostgresOptions {
  readonly url: string;
  readonly poolSize: number;
  /** Statements running longer are cancelled by the server (statement_timeout). */
  readonly statementTimeoutMs: number;
  /**
   * How long the client waits for the answer to a statement before it gives up on it and closes
   * the connection: the bound that holds when the server cannot cancel anything (frozen, or cut off
   * by a network partition). Longer than the statement timeout, so a live server cancels first.
   */
  readonly queryTimeoutMs: number;
  /** How long a request waits for a pooled connection (or a new one to open) before it fails with a 503. */
  readonly connectTimeoutMs: number;
  /**
   * Whether the prepared queries are named prepared statements, parsed and planned once per
   * connection: `auto` (the default) names them on a direct connection and not through a pooler
   * (see pooler.ts); `on` where the pooler keeps them (PgBouncer 1.21+ with
   * max_prepared_statements), `off` for any that cannot.
   */
  readonly preparedStatements?: PreparedStatementsMode;
}

/** int8 (bigint) columns hold unix seconds, well inside the safe integer range. */
const parseInt8 = (value: string) => Number(value);

export async function openPostgres(options: PostgresOptions): Promise<StoreEngine> {
  // Loaded only for PostgreSQL: a server on SQLite, the default, spares the memory (about 5 MB).
  const { default: postgres } = await import('pg');
  const connection = {
    connectionString: options.url,
    query_timeout: options.queryTimeoutMs,
    connectionTimeoutMillis: options.connectTimeoutMs,
  };
  const shape = await probeConnection(postgres, connection, options.statementTimeoutMs);
  const pooled = shape.pooledBecause !== undefined;
  const mode = options.preparedStatements ?? 'auto';
  const named = namesStatements(mode, shape);
  const pool = new postgres.Pool({
    ...connection,
    max: options.poolSize,
    // Behind a pooler a startup parameter is refused or lost: each transaction sets it instead.
    statement_timeout: pooled ? undefined : options.statementTimeoutMs,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === postgres.types.builtins.INT8
          ? parseInt8
          : postgres.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle connection that dies (database restarted) must not crash the process; the pool opens a
  // new one on the next query, so the server recovers by itself.
  pool.on('error', () => {});
  const names = named ? new StatementNames() : undefined;
  const dialectConfig = { pool: translatingPool(pool, names, postgres.escapeLiteral) };
  const db = new Kysely<Database>({
    dialect: pooled ? new PooledPostgresDialect(dialectConfig) : new PostgresDialect(dialectConfig),
  });
  const onPool = poolSelectRunner(pool, names);
  let migrationSchema: string;
  try {
    const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
    migrationSchema = rows[0]?.schema ?? 'public';
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const lock = lockStatement(postgres.escapeLiteral);
  const begin = pooled ? `begin; set local statement_timeout = ${Math.floor(options.statementTimeoutMs)}` : 'begin';
  const id = postgres.escapeIdentifier;
  return {
    kind: 'postgres',
    capabilities: {
      bytesType: 'bytea',
      autoIncrementKey: { type: 'bigserial', autoIncrement: false },
      bytewiseCollation: 'C',
      longTextIndexMethod: 'hash',
      bulkAppender: (table, columns) => {
        const text =
          `insert into ${id(table)} (${columns.map((c) => id(c.name)).join(', ')}) ` +
          `select * from unnest(${columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ')})`;
        const name = names?.of(text);
        return async (rows) => {
          await pool.query({ name, text, values: columns.map((_, i) => rows.map((row) => row[i])) }).catch(rethrow);
        };
      },
    },
    db,
    migrationSchema,
    description: `postgres ${redactDatabaseUrl(options.url)}`,
    notice: describeConnection(mode, shape, named),
    runPrepared: (target, text, parameters) =>
      (target === db ? onPool(text, parameters) : undefined) ??
      target.executeQuery(CompiledQuery.raw(text, [...parameters])),
    deferWrite: async (trx, text, parameters) => {
      if (trx === db) return false;
      await trx.executeQuery(CompiledQuery.raw(AT_NEXT_STATEMENT + text, [...parameters]));
      return true;
    },
    writeTransaction: (fn, lockKey) =>
      transaction(db, lockKey === undefined ? begin : `${begin}; ${lock(lockKey)}`, fn),
    lockWithin: async (trx, lockKey) => {
      await sql.raw(lock(lockKey)).execute(trx);
    },
    readSnapshot: (fn) => transaction(db, begin.replace('begin', 'begin isolation level repeatable read'), fn),
    close: () => db.destroy(),
  };
}
