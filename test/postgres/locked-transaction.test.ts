import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoreEngine } from '../../src/store/engine.js';
import { migrateToLatest } from '../../src/store/migrations.js';
import { withinTransaction } from '../../src/store/unit-of-work.js';
import { createSchema, openTestPostgres, type TestSchema } from '../support/postgres.js';

let schema: TestSchema;
let engine: StoreEngine;

beforeAll(async () => {
  schema = await createSchema('locked');
  // One connection: a transaction left open or aborted on it would break every later test.
  engine = await openTestPostgres(schema.url, 1);
  await migrateToLatest(engine);
});

afterAll(async () => {
  await engine.close();
  await schema.drop();
});

const storedValue = async (key: string) =>
  (await engine.db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst())?.value;

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
};

describe('PostgreSQL write transactions with a lock key', () => {
  it('commit what they wrote, whatever characters the key holds', async () => {
    const key = `it's a \\ "key" ; select 1; --`;
    await engine.writeTransaction((trx) => trx.insertInto('meta').values({ key: 'a', value: '1' }).execute(), key);
    expect(await storedValue('a')).toBe('1');
  });

  it('roll back when they fail, and leave the connection and the lock free', async () => {
    const failed = engine.writeTransaction(async (trx) => {
      await trx.insertInto('meta').values({ key: 'b', value: '2' }).execute();
      throw new Error('changed my mind');
    }, 'scope-b');
    await expect(failed).rejects.toThrow('changed my mind');
    expect(await storedValue('b')).toBeUndefined();
    await engine.writeTransaction(
      (trx) => trx.insertInto('meta').values({ key: 'b', value: '3' }).execute(),
      'scope-b',
    );
    expect(await storedValue('b')).toBe('3');
  });

  /**
   * Runs, on a pool of four connections: a first holder of one key that waits until released, a
   * second writer of the same key, and a writer of another key; answers the order they ran in.
   */
  async function orderOfWriters(
    locked: (engine: StoreEngine, lockKey: string, body: () => Promise<void>) => Promise<unknown>,
  ): Promise<string[]> {
    const wide = await openTestPostgres(schema.url, 4);
    try {
      const order: string[] = [];
      const firstHolds = deferred();
      const release = deferred();
      const first = locked(wide, 'scope-c', async () => {
        order.push('first in');
        firstHolds.resolve();
        await release.promise;
        order.push('first out');
      });
      await firstHolds.promise;
      const second = locked(wide, 'scope-c', async () => {
        order.push('second in');
      });
      // Another key is not held up by the first transaction's lock.
      await locked(wide, 'scope-d', async () => {
        order.push('other key');
      });
      release.resolve();
      await Promise.all([first, second]);
      return order;
    } finally {
      await wide.close();
    }
  }

  it('run one at a time for one key, across connections', async () => {
    const order = await orderOfWriters((wide, lockKey, body) => wide.writeTransaction(body, lockKey));
    expect(order).toEqual(['first in', 'other key', 'first out', 'second in']);
  });

  it('taken inside a unit of work (BEGIN held back and sent with the lock), run one at a time too', async () => {
    // A unit of work opens its transaction first and takes the scope's lock inside it.
    const order = await orderOfWriters((wide, lockKey, body) =>
      wide.writeTransaction((trx) => withinTransaction(wide, trx).writeTransaction(body, lockKey)),
    );
    expect(order).toEqual(['first in', 'other key', 'first out', 'second in']);
  });

  it('commit and roll back without a statement, leaving the connection usable', async () => {
    await engine.writeTransaction(async () => {});
    await expect(
      engine.writeTransaction(async () => {
        throw new Error('nothing sent');
      }),
    ).rejects.toThrow('nothing sent');
    await engine.writeTransaction((trx) => trx.insertInto('meta').values({ key: 'g', value: '7' }).execute());
    expect(await storedValue('g')).toBe('7');
  });
});
