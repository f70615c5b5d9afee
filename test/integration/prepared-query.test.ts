import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/store/migrations.js';
import { prepare } from '../../src/store/prepared-query.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
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
    const byKey = prepare<{ key: string }, { value: string }>(engine, (s) =>
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
      prepare<{ key: string }, { value: string }>(engine, (s) =>
        db.selectFrom('meta').select('value').where('key', '=', s.key).where('value', '=', 'fixed'),
      ),
    ).toThrow(/outside its slots/);
    await engine.close();
  });

  it('on SQLite, reads committed data without waiting for a batch of writes in progress', async () => {
    const engine = await openSqlite({ file: join(dir, 'reader.db') });
    await migrateToLatest(engine);
    const { db } = engine;
    const byKey = prepare<{ key: string }, { value: string }>(engine, (s) =>
      db.selectFrom('meta').select('value').where('key', '=', s.key),
    );
    let started!: () => void;
    const inTransaction = new Promise<void>((resolve) => {
      started = resolve;
    });
    let finish!: () => void;
    const held = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const write = engine.writeTransaction(async (trx) => {
      await trx.insertInto('meta').values({ key: 'c', value: '3' }).execute();
      started();
      await held;
    });
    await inTransaction;
    // The batch holds the writing connection with its row not yet committed: the read neither
    // waits for it nor sees it.
    expect(await byKey.rows(db, { key: 'c' })).toEqual([]);
    finish();
    await write;
    expect(await byKey.rows(db, { key: 'c' })).toEqual([{ value: '3' }]);
    await engine.close();
  });

  it('on SQLite, runs prepared writes inside a write transaction on its connection, and out of one too', async () => {
    const engine = await openSqlite({ file: join(dir, 'writer.db') });
    await migrateToLatest(engine);
    const { db } = engine;
    const put = prepare<{ key: string; value: string }, never>(engine, (s) =>
      db.insertInto('meta').values({ key: s.key, value: s.value }),
    );
    const byKey = prepare<{ key: string }, { value: string }>(engine, (s) =>
      db.selectFrom('meta').select('value').where('key', '=', s.key),
    );
    const failed = engine.writeTransaction(async (trx) => {
      const result = await put.execute(trx, { key: 'd', value: '4' });
      expect(result.numAffectedRows).toBe(1n);
      expect(await byKey.rows(trx, { key: 'd' })).toEqual([{ value: '4' }]);
      throw new Error('changed my mind');
    });
    await expect(failed).rejects.toThrow('changed my mind');
    expect(await byKey.rows(db, { key: 'd' })).toEqual([]);
    await put.execute(db, { key: 'e', value: '5' });
    expect(await byKey.rows(db, { key: 'e' })).toEqual([{ value: '5' }]);
    await engine.close();
  });
});
