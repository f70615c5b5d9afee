/**
 * Finds a PostgreSQL server for the test suites: SECRET_STORE_TEST_DATABASE_URL if set, otherwise a
 * local server on 127.0.0.1:5432 that lets the `postgres` role in (CI starts one). Returns undefined,
 * with the reason, when there is none: the PostgreSQL suites are then skipped, and the run says so.
 */
import pg from 'pg';
import { redactDatabaseUrl } from '../../src/store/database-url.js';

const LOCAL = 'postgres://postgres@127.0.0.1:5432/postgres';

export async function findPostgres(env: NodeJS.ProcessEnv): Promise<{ url?: string; reason: string }> {
  const url = env.SECRET_STORE_TEST_DATABASE_URL || LOCAL;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return { url, reason: `PostgreSQL suites run against ${redactDatabaseUrl(url)}` };
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    if (env.SECRET_STORE_TEST_DATABASE_URL) {
      throw new Error(`SECRET_STORE_TEST_DATABASE_URL is set but PostgreSQL cannot be reached: ${why}`);
    }
    return {
      reason: `PostgreSQL suites SKIPPED: no SECRET_STORE_TEST_DATABASE_URL and no server at ${LOCAL} (${why})`,
    };
  } finally {
    await client.end().catch(() => {});
  }
}
