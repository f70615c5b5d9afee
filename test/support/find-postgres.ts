/**
 * Finds a PostgreSQL server for the test suites: SECRET_STORE_TEST_DATABASE_URL if set, otherwise a
 * local server on 127.0.0.1:5432 that lets the `postgres` role in (CI starts one). Returns undefined,
 * with the reason, when there is none: the PostgreSQL suites are then skipped, and the run says so.
 */
import pg from 'pg';
import { redactDatabaseUrl } from '../../src/store/postgres/database-url.js';

const LOCAL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** Why `url` cannot be queried, or undefined when it answers. */
async function unreachable(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function findPostgres(env: NodeJS.ProcessEnv): Promise<{ url?: string; reason: string }> {
  const url = env.SECRET_STORE_TEST_DATABASE_URL || LOCAL;
  const why = await unreachable(url);
  if (why === undefined) return { url, reason: `PostgreSQL suites run against ${redactDatabaseUrl(url)}` };
  if (env.SECRET_STORE_TEST_DATABASE_URL) {
    throw new Error(`SECRET_STORE_TEST_DATABASE_URL is set but PostgreSQL cannot be reached: ${why}`);
  }
  return {
    reason: `PostgreSQL suites SKIPPED: no SECRET_STORE_TEST_DATABASE_URL and no server at ${LOCAL} (${why})`,
  };
}

/**
 * Finds the PgBouncer the `pgbouncer` project runs the acceptance suites through:
 * SECRET_STORE_TEST_POOLER_URL (CI starts one in transaction mode in front of its PostgreSQL). None
 * set: those suites are skipped, and the run says so.
 */
export async function findPooler(env: NodeJS.ProcessEnv): Promise<{ url?: string; reason: string }> {
  const url = env.SECRET_STORE_TEST_POOLER_URL;
  if (!url) return { reason: 'PgBouncer suites SKIPPED: no SECRET_STORE_TEST_POOLER_URL' };
  const why = await unreachable(url);
  if (why !== undefined)
    throw new Error(`SECRET_STORE_TEST_POOLER_URL is set but the pooler cannot be reached: ${why}`);
  return { url, reason: `PgBouncer suites run through ${redactDatabaseUrl(url)}` };
}
