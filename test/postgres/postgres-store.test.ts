import { afterAll } from 'vitest';
import { migrateToLatest } from '../../src/store/migrations.js';
import { describeStoreContract } from '../integration/store-contract.js';
import { createSchema, openTestPostgres, type TestSchema } from '../support/postgres.js';

const schemas = new Map<string, TestSchema>();
afterAll(async () => {
  for (const schema of schemas.values()) await schema.drop();
});

describeStoreContract('PostgreSQL (a real server)', async (name, options) => {
  let schema = schemas.get(name);
  if (!schema) {
    schema = await createSchema('contract');
    schemas.set(name, schema);
  }
  const engine = await openTestPostgres(schema.url);
  if (options?.migrate !== false) await migrateToLatest(engine);
  return engine;
});
