/**
 * PostgreSQL for tests: the suites run against a real server, each test database in its own schema
 * (cheap to create, dropped afterwards). The URL comes from the vitest config, which found a server.
 * Through a transaction-pooling PgBouncer (the `pgbouncer` project), which cannot pass a search path
 * on, each test database is a database of its own instead, reached through the pooler.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { StoreEngine } from '../../src/store/engine.js';
import { openPostgres } from '../../src/store/postgres/open-postgres.js';

export const TEST_DATABASE_URL = process.env.SECRET_STORE_TEST_DATABASE_URL;

/** A PgBouncer in transaction mode in front of TEST_DATABASE_URL's server, in the `pgbouncer` project. */
export const TEST_POOLER_URL = process.env.SECRET_STORE_TEST_POOLER_URL;

/** The engine the acceptance harness starts servers on (the `postgres` vitest project sets it). */
export const testEngine = (): 'sqlite' | 'postgres' =>
  process.env.SECRET_STORE_TEST_ENGINE === 'postgres' ? 'postgres' : 'sqlite';

/**
 * The URL of `schema` on the test server. Its sessions commit without waiting for the WAL flush
 * (synchronous_commit=off): a crash of PostgreSQL itself is no test's subject, and waiting on the
 * disk of a shared machine for every commit made the suites slow and their timing erratic.
 */
export function withSearchPath(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('options', `-c search_path=${schema} -c synchronous_commit=off`);
  return parsed.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  if (!TEST_DATABASE_URL) throw new Error('no test PostgreSQL: SECRET_STORE_TEST_DATABASE_URL is not set');
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface TestSchema {
  readonly name: string;
  /** The test database URL with this schema as the search path (or the pooler's URL of the database). */
  readonly url: string;
  drop(): Promise<void>;
}

const uniqueName = (prefix: string) => `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;

export async function createSchema(prefix = 't'): Promise<TestSchema> {
  if (TEST_POOLER_URL) return createDatabase(prefix, TEST_POOLER_URL);
  const name = uniqueName(prefix);
  await admin((c) => c.query(`create schema ${name}`));
  return {
    name,
    url: withSearchPath(TEST_DATABASE_URL as string, name),
    drop: () => admin((c) => c.query(`drop schema if exists ${name} cascade`)).then(() => undefined),
  };
}

/** A database of its own on the test server, reached through `viaUrl` (a pooler's) with its path replaced. */
export async function createDatabase(prefix: string, viaUrl: string): Promise<TestSchema> {
  const name = uniqueName(prefix);
  await admin((c) => c.query(`create database ${name}`));
  const url = new URL(viaUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    // FORCE ends the pooler's server connections to it too.
    drop: () => admin((c) => c.query(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}

/** An engine on `url` with the timeouts every PostgreSQL suite uses. */
export const openTestPostgres = (url: string, poolSize = 10): Promise<StoreEngine> =>
  openPostgres({ url, poolSize, statementTimeoutMs: 5000, queryTimeoutMs: 6000, connectTimeoutMs: 3000 });
