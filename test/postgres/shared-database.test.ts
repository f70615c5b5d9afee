/**
 * A database shared with others: other schemas come and go while we start, migrate and check
 * readiness. kysely's migrator introspects every schema, and a schema dropped during that scan
 * fails it with "schema ... does not exist" (seen in CI, where test servers drop their schemas).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { migrateToLatest, migrationsCurrent } from '../../src/store/migrations.js';
import { createSchema, openTestPostgres, type TestSchema } from '../support/postgres.js';

const schemas: TestSchema[] = [];
afterAll(async () => {
  for (const s of schemas) await s.drop();
});

/** Creates schemas with a few tables and drops them again, until `until` resolves. */
async function churn(until: Promise<unknown>): Promise<number> {
  let done = false;
  void until.finally(() => {
    done = true;
  });
  let cycles = 0;
  while (!done) {
    const other = await createSchema('churn');
    const engine = await openTestPostgres(other.url, 1);
    await migrateToLatest(engine);
    await engine.close();
    await other.drop();
    cycles++;
  }
  return cycles;
}

describe('migrations on a database whose other schemas change meanwhile', () => {
  it('never fail for a schema that another user of the database drops', async () => {
    const ours = await createSchema('shared');
    schemas.push(ours);
    const engine = await openTestPostgres(ours.url, 2);
    await migrateToLatest(engine);
    const checks = (async () => {
      // What every start and every CLI command does: migrate (nothing to run) and check.
      for (let i = 0; i < 150; i++) {
        expect(await migrateToLatest(engine)).toEqual([]);
        expect(await migrationsCurrent(engine)).toBe(true);
      }
    })();
    const [cycles] = await Promise.all([churn(checks), churn(checks), checks]);
    expect(cycles).toBeGreaterThan(0);
    await engine.close();
  });
});
