/**
 * PostgreSQL for tests: the suites run against a real server, each test database in its own schema
 * (cheap to create, dropped afterwards). The URL comes from the vitest config, which found a server.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgres, type StoreEngine } from '../../src/store/engine.js';

export const TEST_DATABASE_URL = process.env.SECRET_STORE_TEST_DATABASE_URL;

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
  /** The test database URL with this schema as the search path. */
  readonly url: string;
  drop(): Promise<void>;
}

export async function createSchema(prefix = 't'): Promise<TestSchema> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`create schema ${name}`));
  return {
    name,
    url: withSearchPath(TEST_DATABASE_URL as string, name),
    drop: () => admin((c) => c.query(`drop schema if exists ${name} cascade`)).then(() => undefined),
  };
}

/** An engine on `url` with the timeouts every PostgreSQL suite uses. */
export const openTestPostgres = (url: string, poolSize = 10): Promise<StoreEngine> =>
  openPostgres({ url, poolSize, statementTimeoutMs: 5000, connectTimeoutMs: 3000 });
