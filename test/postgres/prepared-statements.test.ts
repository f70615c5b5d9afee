import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/store/migrations.js';
import { openPostgres } from '../../src/store/postgres/open-postgres.js';
import { SqlSecretStore } from '../../src/store/sql-secret-store.js';
import { createSchema, type TestSchema } from '../support/postgres.js';

const schemas: TestSchema[] = [];
afterAll(async () => {
  for (const schema of schemas) await schema.drop();
});

const key = { platform: 'acct_p', account: 'acct_p', livemode: false, scopeType: 'account', scopeUser: '', name: 'n' };

/** One connection, so the session whose prepared statements we look at is the one that ran the find. */
async function findThenListPrepared(preparedStatements: 'on' | 'off') {
  const schema = await createSchema('prepared');
  schemas.push(schema);
  const engine = await openPostgres({
    url: schema.url,
    poolSize: 1,
    statementTimeoutMs: 5000,
    queryTimeoutMs: 6000,
    connectTimeoutMs: 3000,
    preparedStatements,
  });
  try {
    await migrateToLatest(engine);
    const store = new SqlSecretStore(engine);
    const secret = { ...key, id: 'appsecret_1', created: 1, expiresAt: null, ciphertext: Buffer.from('sealed') };
    await store.put(secret, { now: 1, maxPerScope: 10 });
    for (let i = 0; i < 3; i++) expect(await store.find(key, 2)).toMatchObject({ id: 'appsecret_1', created: 1 });
    expect((await store.list(key, { limit: 10 }, 2)).rows.map((r) => r.id)).toEqual(['appsecret_1']);
    const { rows } = await sql<{ name: string; statement: string }>`
      select name, statement from pg_prepared_statements order by name`.execute(engine.db);
    return rows;
  } finally {
    await engine.close();
  }
}

describe('PostgreSQL prepared statements', () => {
  it('names the hot queries, once each per connection', async () => {
    const prepared = await findThenListPrepared('on');
    // The put's occupancy select (its upsert goes with COMMIT, as literals), then the find and the
    // list page.
    expect(prepared.map((p) => p.name)).toEqual(['secret_store_0', 'secret_store_1', 'secret_store_2']);
    expect(prepared.map((p) => p.statement.split(' ').slice(0, 3).join(' '))).toEqual([
      'select (select "id"',
      'select "id", "created",',
      'select "id", "name",',
    ]);
    expect(prepared[1]?.statement).toMatch(/^select "id", "created", "expires_at", "ciphertext" from "secrets"/);
  });

  it('prepares nothing when turned off', async () => {
    expect(await findThenListPrepared('off')).toEqual([]);
  });
});
