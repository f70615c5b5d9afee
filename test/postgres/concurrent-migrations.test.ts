/**
 * Instances started at once on an empty database all migrate it: one runs each migration, the
 * others wait for it (kysely's lock on a direct connection) or fail on its tables and look again
 * (behind a transaction-pooling pooler, where that lock cannot hold; CI runs this file both ways).
 */
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrateToLatest, migrationsCurrent } from '../../src/store/migrations.js';
import type { Db } from '../../src/store/schema.js';
import { createSchema, openTestPostgres, type TestSchema } from '../support/postgres.js';

let schema: TestSchema;
beforeEach(async () => {
  schema = await createSchema('migrate');
});
afterEach(async () => {
  await schema?.drop();
});

describe('migrations started by several instances at once', () => {
  it('leave every migration applied once, and every instance started', async () => {
    const engines = await Promise.all([1, 2, 3, 4].map(() => openTestPostgres(schema.url, 2)));
    try {
      const ran = await Promise.all(engines.map((engine) => migrateToLatest(engine)));
      // Each migration was run by exactly one instance.
      const all = ran.flat();
      expect(new Set(all).size).toBe(all.length);
      expect(all.length).toBeGreaterThan(0);
      for (const engine of engines) expect(await migrationsCurrent(engine)).toBe(true);
      const { rows } = await sql<{ name: string }>`select name from kysely_migration`.execute(engines[0]?.db as Db);
      expect(rows.map((r) => r.name).sort()).toEqual([...all].sort());
    } finally {
      await Promise.all(engines.map((engine) => engine.close()));
    }
  });
});
