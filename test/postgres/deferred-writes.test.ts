/**
 * A unit of work's audit row goes with its COMMIT on PostgreSQL (`StoreEngine.deferWrite`):
 * written into the SQL as literals, in the same round trip. These tests hold it to the promises of a
 * statement run on its own: it lands only with the commit, every value comes back as it went in,
 * and if it fails, nothing of the transaction stays and the connection serves the next one.
 */
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlAuditLog } from '../../src/audit/audit-log.js';
import type { StoreEngine } from '../../src/store/engine.js';
import { SqlIdempotencyStore } from '../../src/store/idempotency-store.js';
import { migrateToLatest } from '../../src/store/migrations.js';
import { prepare } from '../../src/store/prepared-query.js';
import type { StoredSecret } from '../../src/store/secret-store.js';
import { SqlSecretStore } from '../../src/store/sql-secret-store.js';
import { UnitOfWork, withinTransaction } from '../../src/store/unit-of-work.js';
import { auditEntry } from '../support/audit-entries.js';
import { createSchema, openTestPostgres, type TestSchema } from '../support/postgres.js';

let schema: TestSchema;
let engine: StoreEngine;

beforeAll(async () => {
  schema = await createSchema('atcommit');
  // One connection: a transaction left open or aborted on it would break every later test.
  engine = await openTestPostgres(schema.url, 1);
  await migrateToLatest(engine);
});

afterAll(async () => {
  await engine.close();
  await schema.drop();
});

const insertMeta = () =>
  prepare<{ key: string; value: string }, never>(engine, (s) =>
    engine.db.insertInto('meta').values({ key: s.key, value: s.value }),
  );
const storedValue = async (key: string) =>
  (await engine.db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst())?.value;

describe('a write held back on PostgreSQL to go with the next statement or COMMIT', () => {
  /** The SQL of every query sent to PostgreSQL while `fn` runs. */
  async function queriesSent(fn: () => Promise<unknown>): Promise<string[]> {
    const sent: string[] = [];
    const query = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...args: Parameters<typeof query>) {
      const [config] = args;
      sent.push(typeof config === 'string' ? config : (config as { text: string }).text);
      return query.apply(this, args);
    } as typeof query;
    try {
      await fn();
    } finally {
      pg.Client.prototype.query = query;
    }
    return sent;
  }

  const NOW = 1_800_000_000;
  const storedSecret = (name: string, overrides: Partial<StoredSecret> = {}): StoredSecret => ({
    platform: 'acct_p',
    account: 'acct_p',
    livemode: false,
    scopeType: 'account',
    scopeUser: '',
    name,
    id: `appsecret_${name}`,
    created: NOW,
    expiresAt: null,
    ciphertext: Buffer.from([0, 1, 0x27, 0x5c]),
    ...overrides,
  });

  it('is sent with the next statement, which sees it, and is committed', async () => {
    const insert = insertMeta();
    let seenInside: string | undefined;
    const sent = await queriesSent(() =>
      engine.writeTransaction(async (trx) => {
        await insert.deferred(trx, { key: 'later', value: 'v' });
        seenInside = (await trx.selectFrom('meta').select('value').where('key', '=', 'later').executeTakeFirst())
          ?.value;
      }),
    );
    expect(seenInside).toBe('v');
    // BEGIN and the insert go with the select (a kysely query with parameters: after them).
    expect(sent).toEqual([
      expect.stringMatching(/^begin.*; insert into "meta" .*'later', 'v'\)$/s),
      expect.stringMatching(/^select/),
      'commit',
    ]);
    expect(await storedValue('later')).toBe('v');
  });

  it('counts against the cap for the puts after it in the same transaction', async () => {
    const store = new SqlSecretStore(engine);
    const outcomes: string[] = [];
    await engine.writeTransaction(async (trx) => {
      const bound = store.within(trx);
      for (let i = 0; i < 11; i++)
        outcomes.push(
          await bound.put(storedSecret(`capped${i}`, { scopeType: 'user', scopeUser: 'usr_capped' }), {
            now: NOW,
            maxPerScope: 10,
          }),
        );
    });
    expect(outcomes.filter((o) => o === 'created')).toHaveLength(10);
    expect(outcomes.at(-1)).toBe('scope_full');
  });

  it('is dropped with a rollback, and sends nothing for a transaction that ran nothing else', async () => {
    const insert = insertMeta();
    const sent = await queriesSent(() =>
      expect(
        engine.writeTransaction(async (trx) => {
          await insert.deferred(trx, { key: 'dropped', value: 'v' });
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind'),
    );
    expect(sent).toEqual([]);
    expect(await storedValue('dropped')).toBeUndefined();
  });

  it('keeps every value as it went in, whatever characters it holds', async () => {
    const insert = insertMeta();
    const values = [
      `it's`,
      'back\\slash \\x00 \\n',
      '$1 $2 $$ quoted $$',
      "'); drop table meta; --",
      'ünïcödé ✓ 𝄞',
      '',
    ];
    await engine.writeTransaction(async (trx) => {
      for (const [i, value] of values.entries()) await insert.deferred(trx, { key: `odd-${i}`, value });
    });
    for (const [i, value] of values.entries()) expect(await storedValue(`odd-${i}`)).toBe(value);
  });

  it('keeps bytes as they went in, a quote, a backslash and a NUL among them', async () => {
    await sql`create table blobs (k text primary key, v bytea not null)`.execute(engine.db);
    // biome-ignore lint/suspicious/noExplicitAny: a table of this test's own, outside the schema's types
    const db = engine.db as any;
    const insert = prepare<{ k: string; v: Buffer }, never>(engine, (s) =>
      db.insertInto('blobs').values({ k: s.k, v: s.v }),
    );
    const bytes = Buffer.from([0, 0x27, 0x5c, 0x78, 0xff, 0x0a, 0x22, 0x3b]);
    await engine.writeTransaction(async (trx) => {
      await insert.deferred(trx, { k: 'odd', v: bytes });
      await insert.deferred(trx, { k: 'empty', v: Buffer.alloc(0) });
    });
    const rows = await db.selectFrom('blobs').select(['k', 'v']).orderBy('k').execute();
    expect(rows).toEqual([
      { k: 'empty', v: Buffer.alloc(0) },
      { k: 'odd', v: bytes },
    ]);
  });

  it('rolls the whole transaction back when it fails, and leaves the connection usable', async () => {
    const insert = insertMeta();
    const failed = engine.writeTransaction(async (trx) => {
      await trx.insertInto('meta').values({ key: 'kept-out', value: '1' }).execute();
      // The same key twice: the second insert breaks the primary key, at COMMIT.
      await insert.deferred(trx, { key: 'twice', value: 'a' });
      await insert.deferred(trx, { key: 'twice', value: 'b' });
    });
    await expect(failed).rejects.toThrow();
    expect(await storedValue('kept-out')).toBeUndefined();
    expect(await storedValue('twice')).toBeUndefined();
    await engine.writeTransaction(async (trx) => {
      await insert.deferred(trx, { key: 'after', value: 'ok' });
    });
    expect(await storedValue('after')).toBe('ok');
  });

  it('goes with the commit of a unit of work, whose stores see the engine through the transaction', async () => {
    const insert = prepare<{ key: string; value: string }, never>(
      { runPrepared: engine.runPrepared, deferWrite: engine.deferWrite },
      (s) => engine.db.insertInto('meta').values({ key: s.key, value: s.value }),
    );
    await engine.writeTransaction(async (trx) => {
      const confined = withinTransaction(engine, trx);
      await insert.deferred(confined.db, { key: 'unit', value: 'of work' });
    });
    expect(await storedValue('unit')).toBe('of work');
  });

  it('runs at once outside a transaction', async () => {
    await insertMeta().deferred(engine.db, { key: 'alone', value: 'now' });
    expect(await storedValue('alone')).toBe('now');
  });

  /** A unit of work as the server makes one (app/compose.ts). */
  function writeUnit() {
    const secrets = new SqlSecretStore(engine);
    const idempotency = new SqlIdempotencyStore(engine);
    const audit = new SqlAuditLog(engine);
    const unit = new UnitOfWork(engine, (trx) => ({
      secrets: secrets.within(trx),
      idempotency: idempotency.within(trx),
      audit: audit.within(trx),
    }));
    return { secrets, idempotency, audit, unit };
  }

  it('leaves a create in a unit of work three queries: BEGIN with the lock, the occupancy, the rest with COMMIT', async () => {
    const { secrets, audit, unit } = writeUnit();
    const stored = storedSecret('counted');
    const sent = await queriesSent(() =>
      unit.write(async (stores) => {
        expect(await stores.secrets.put(stored, { now: NOW, maxPerScope: 10 })).toBe('created');
        await stores.audit.append(
          auditEntry({ requestId: 'req_counted', operation: 'apps.secret.create', name: 'counted' }),
        );
      }),
    );
    expect(sent).toHaveLength(3);
    expect(sent[0]).toMatch(/^begin(; set local statement_timeout = \d+)?; select pg_advisory_xact_lock/);
    expect(sent[2]).toMatch(/^insert into "secrets" .*; insert into "audit_log" .*; commit$/s);
    expect((await secrets.find(stored, NOW))?.ciphertext).toEqual(stored.ciphertext);
    expect((await audit.query({ limit: 5 })).map((e) => e.requestId)).toContain('req_counted');
  });

  it('sends BEGIN with an idempotency claim, and the completion with COMMIT: four queries for a keyed create', async () => {
    const { secrets, idempotency, unit } = writeUnit();
    const stored = storedSecret('keyed');
    const record = { owner: 'acct_p:test', key: 'stripe-node-retry-1', requestId: 'req_keyed' };
    const sent = await queriesSent(() =>
      unit.write(async (stores) => {
        const claim = { ...record, fingerprint: 'f', now: NOW, lockSeconds: 60, ttlSeconds: 86_400 };
        expect(await stores.idempotency.claim(claim)).toEqual({ kind: 'claimed' });
        expect(await stores.secrets.put(stored, { now: NOW, maxPerScope: 10 })).toBe('created');
        await stores.idempotency.complete(record.owner, record.key, record.requestId, 200, '{"it\'s":"saved"}');
        await stores.audit.append(
          auditEntry({ requestId: 'req_keyed', operation: 'apps.secret.create', name: 'keyed' }),
        );
      }),
    );
    expect(sent).toHaveLength(4);
    expect(sent[0]).toMatch(
      /^begin(; set local statement_timeout = \d+)?; insert into "idempotency_keys" .* on conflict .* do nothing$/s,
    );
    expect(sent[1]).toMatch(/^select pg_advisory_xact_lock/);
    expect(sent[3]).toMatch(
      /^insert into "secrets" .*; update "idempotency_keys" .*; insert into "audit_log" .*; commit$/s,
    );
    expect((await secrets.find(stored, NOW))?.id).toBe(stored.id);
    // The record is complete: the same key replays the saved answer.
    const again = {
      ...record,
      requestId: 'req_again',
      fingerprint: 'f',
      now: NOW + 1,
      lockSeconds: 60,
      ttlSeconds: 86_400,
    };
    expect(await idempotency.claim(again)).toEqual({
      kind: 'replay',
      status: 200,
      body: '{"it\'s":"saved"}',
      requestId: 'req_keyed',
    });
  });

  it('makes a delete in a unit of work two queries: BEGIN with the find, the rest with COMMIT', async () => {
    const { secrets, unit } = writeUnit();
    const stored = storedSecret('deleted');
    await secrets.put(stored, { now: NOW, maxPerScope: 10 });
    const sent = await queriesSent(() =>
      unit.write(async (stores) => {
        expect((await stores.secrets.remove(stored, NOW))?.id).toBe(stored.id);
        await stores.audit.append(
          auditEntry({ requestId: 'req_deleted', operation: 'apps.secret.delete', name: 'deleted' }),
        );
      }),
    );
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatch(/^begin(; set local statement_timeout = \d+)?; select .* from "secrets"/s);
    expect(sent[1]).toMatch(/^delete from "secrets" .*; insert into "audit_log" .*; commit$/s);
    expect(await secrets.find(stored, NOW)).toBeUndefined();
  });
});
