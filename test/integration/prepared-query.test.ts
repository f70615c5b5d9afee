import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqlite } from '../../src/store/engine.js';
import { migrateToLatest } from '../../src/store/migrations.js';
import { prepare } from '../../src/store/prepared-query.js';
import { removeDir, tempDir } from '../support/server-process.js';

const dir = tempDir('secret-store-prepared-');
afterAll(() => removeDir(dir));

describe('prepare', () => {
  it('binds each call its own values to the SQL compiled once', async () => {
    const engine = await openSqlite({ file: join(dir, 'bind.db') });
    await migrateToLatest(engine);
    const { db } = engine;
    await db
      .insertInto('meta')
      .values([
        { key: 'a', value: '1' },
        { key: 'b', value: '2' },
      ])
      .execute();
    const byKey = prepare<{ key: string }, { value: string }>((s) =>
      db.selectFrom('meta').select('value').where('key', '=', s.key),
    );
    expect(await byKey.rows(db, { key: 'a' })).toEqual([{ value: '1' }]);
    expect(await byKey.rows(db, { key: 'b' })).toEqual([{ value: '2' }]);
    expect(await byKey.rows(db, { key: "a' or '1'='1" })).toEqual([]);
    await engine.close();
  });

  it('refuses a query with a value that is not a slot, which would be bound for good', async () => {
    const engine = await openSqlite({ file: join(dir, 'literal.db') });
    const { db } = engine;
    expect(() =>
      prepare<{ key: string }, { value: string }>((s) =>
        db.selectFrom('meta').select('value').where('key', '=', s.key).where('value', '=', 'fixed'),
      ),
    ).toThrow(/outside its slots/);
    await engine.close();
  });
});
