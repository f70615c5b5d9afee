/**
 * The store contract: what every backend must do, run against each one (see *-store.test.ts). It uses
 * real databases only. `open` must return a fresh, migrated, empty database each time it is called
 * with a new name, and the same database again when called with the same name.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type AuditEntry, SqlAuditLog } from '../../src/audit/audit-log.js';
import { SqlApiKeyStore } from '../../src/store/api-key-store.js';
import type { StoreEngine } from '../../src/store/engine.js';
import { SqlIdempotencyStore } from '../../src/store/idempotency-store.js';
import type { ScopeKey, SecretRow, StoredSecret } from '../../src/store/secret-store.js';
import { SqlSecretStore } from '../../src/store/sql-secret-store.js';
import { auditEntry } from '../support/audit-entries.js';
import { describeTextContract } from './store-contract-text.js';

/** A fresh engine for `name`, migrated unless `migrate` is false (an empty database then). */
export type OpenEngine = (name: string, options?: { migrate?: boolean }) => Promise<StoreEngine>;

const scope: ScopeKey = { platform: 'acct_p', account: 'acct_a', livemode: false, scopeType: 'account', scopeUser: '' };
const NOW = 1_800_000_000;

let counter = 0;
function secret(name: string, overrides: Partial<StoredSecret> = {}): StoredSecret {
  counter += 1;
  return {
    ...scope,
    name,
    id: `appsecret_${String(counter).padStart(30, '0')}`,
    created: NOW,
    expiresAt: null,
    ciphertext: Buffer.from(`sealed:${name}:${counter}`),
    ...overrides,
  };
}

const rules = { now: NOW, maxPerScope: 10 };

export function describeStoreContract(backend: string, open: OpenEngine): void {
  describeTextContract(backend, open);
  describe(`store contract on ${backend}`, () => {
    const opened: StoreEngine[] = [];
    let dbCount = 0;
    const fresh = async () => {
      const engine = await open(`contract_${process.pid}_${Date.now()}_${dbCount++}`);
      opened.push(engine);
      return { engine, store: new SqlSecretStore(engine) };
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((e) => e.close()));
    });

    it('creates, finds and replaces by name and scope', async () => {
      const { store } = await fresh();
      const first = secret('a');
      expect(await store.put(first, rules)).toBe('created');
      expect(await store.find(first, NOW)).toMatchObject({ id: first.id, name: 'a', ciphertext: first.ciphertext });
      const second = secret('a', { created: NOW + 5 });
      expect(await store.put(second, rules)).toBe('replaced');
      const found = await store.find(first, NOW);
      expect(found?.id).toBe(second.id);
      expect(found?.created).toBe(NOW + 5);
      expect(Buffer.from(found?.ciphertext ?? []).toString()).toBe(Buffer.from(second.ciphertext).toString());
      expect(await store.count()).toBe(1);
    });

    it('keeps scopes, users, accounts, platforms and modes apart', async () => {
      const { store } = await fresh();
      const variants: Partial<StoredSecret>[] = [
        {},
        { scopeType: 'user', scopeUser: 'usr_1' },
        { scopeType: 'user', scopeUser: 'usr_2' },
        { account: 'acct_other' },
        { platform: 'acct_other_platform' },
        { livemode: true },
      ];
      for (const v of variants) expect(await store.put(secret('same', v), rules)).toBe('created');
      expect(await store.count()).toBe(variants.length);
      for (const v of variants) {
        const key = { ...scope, name: 'same', ...v };
        const found = await store.find(key, NOW);
        expect(found).toMatchObject({ ...v, name: 'same' });
      }
    });

    it('refuses a new name beyond the cap but replaces at the cap', async () => {
      const { store } = await fresh();
      for (let i = 0; i < 10; i++) expect(await store.put(secret(`n${i}`), rules)).toBe('created');
      expect(await store.put(secret('n10'), rules)).toBe('scope_full');
      expect(await store.put(secret('n3'), rules)).toBe('replaced');
      expect(await store.put(secret('n10', { scopeType: 'user', scopeUser: 'usr_1' }), rules)).toBe('created');
      expect(await store.count()).toBe(11);
    });

    it('never exceeds the cap under concurrent creates', async () => {
      const { store } = await fresh();
      const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => store.put(secret(`c${i}`), rules)));
      expect(outcomes.filter((o) => o === 'created')).toHaveLength(10);
      expect(outcomes.filter((o) => o === 'scope_full')).toHaveLength(40);
      expect((await store.list(scope, { limit: 100 }, NOW)).rows).toHaveLength(10);
    });

    it('hides expired rows from find, list, remove and the cap, and sweeps them', async () => {
      const { store } = await fresh();
      await store.put(secret('expiring', { expiresAt: NOW + 10 }), rules);
      for (let i = 0; i < 9; i++) await store.put(secret(`k${i}`), rules);
      expect(await store.find({ ...scope, name: 'expiring' }, NOW + 9)).toBeDefined();
      const later = NOW + 10;
      expect(await store.find({ ...scope, name: 'expiring' }, later)).toBeUndefined();
      expect((await store.list(scope, { limit: 100 }, later)).rows.map((r) => r.name)).not.toContain('expiring');
      expect(await store.remove({ ...scope, name: 'expiring' }, later)).toBeUndefined();
      expect(await store.put(secret('k9'), { ...rules, now: later })).toBe('created');
      expect(await store.deleteExpired(later, 100)).toBe(1);
      expect(await store.deleteExpired(later, 100)).toBe(0);
      expect(await store.count()).toBe(10);
    });

    it('replaces an expired row that was not swept yet', async () => {
      const { store } = await fresh();
      await store.put(secret('x', { expiresAt: NOW + 1 }), rules);
      const replacement = secret('x');
      expect(await store.put(replacement, { ...rules, now: NOW + 5 })).toBe('created');
      expect((await store.find({ ...scope, name: 'x' }, NOW + 5))?.id).toBe(replacement.id);
    });

    it('removes and returns the removed row', async () => {
      const { store } = await fresh();
      const s = secret('gone');
      await store.put(s, rules);
      expect((await store.remove(s, NOW))?.id).toBe(s.id);
      expect(await store.remove(s, NOW)).toBeUndefined();
      expect(await store.find(s, NOW)).toBeUndefined();
    });

    it('pages newest first, ties by id, in both directions', async () => {
      const { store } = await fresh();
      const rows = [
        secret('old', { created: NOW - 10 }),
        secret('t1', { created: NOW }),
        secret('t2', { created: NOW }),
        secret('t3', { created: NOW }),
        secret('new', { created: NOW + 10 }),
      ];
      for (const r of rows) await store.put(r, rules);
      const all = await store.list(scope, { limit: 10 }, NOW);
      expect(all.rows.map((r) => r.name)).toEqual(['new', 't3', 't2', 't1', 'old']);
      expect(all.hasMore).toBe(false);
      const page1 = await store.list(scope, { limit: 2 }, NOW);
      expect(page1.rows.map((r) => r.name)).toEqual(['new', 't3']);
      expect(page1.hasMore).toBe(true);
      const last = page1.rows[1] as SecretRow;
      const page2 = await store.list(scope, { limit: 2, after: last }, NOW);
      expect(page2.rows.map((r) => r.name)).toEqual(['t2', 't1']);
      expect(page2.hasMore).toBe(true);
      const page3 = await store.list(scope, { limit: 2, after: page2.rows[1] }, NOW);
      expect(page3.rows.map((r) => r.name)).toEqual(['old']);
      expect(page3.hasMore).toBe(false);
      const back = await store.list(scope, { limit: 2, before: page3.rows[0] }, NOW);
      expect(back.rows.map((r) => r.name)).toEqual(['t2', 't1']);
      expect(back.hasMore).toBe(true);
      const first = await store.list(scope, { limit: 2, before: back.rows[0] }, NOW);
      expect(first.rows.map((r) => r.name)).toEqual(['new', 't3']);
      expect(first.hasMore).toBe(false);
      // The same pages with their envelopes, and without them: the same rows in the same order.
      const sealed = await store.listSealed(scope, { limit: 2, after: last }, NOW);
      expect(sealed.rows).toEqual(rows.filter((r) => r.name === 't2' || r.name === 't1').reverse());
      expect(page2.rows).toEqual(sealed.rows.map(({ ciphertext: _, ...row }) => row));
      expect(page2.rows[0]).not.toHaveProperty('ciphertext');
    });

    it('finds a cursor row by id only inside its own scope', async () => {
      const { store } = await fresh();
      const s = secret('cursor');
      await store.put(s, rules);
      expect((await store.findById(scope, s.id, NOW))?.name).toBe('cursor');
      expect(await store.findById({ ...scope, scopeType: 'user', scopeUser: 'usr_1' }, s.id, NOW)).toBeUndefined();
      expect(await store.findById({ ...scope, livemode: true }, s.id, NOW)).toBeUndefined();
    });

    it('keeps data across a reopen', async () => {
      const name = `reopen_${process.pid}_${Date.now()}`;
      const engine = await open(name);
      const s = secret('durable');
      await new SqlSecretStore(engine).put(s, rules);
      await engine.close();
      const again = await open(name);
      opened.push(again);
      expect((await new SqlSecretStore(again).find(s, NOW))?.id).toBe(s.id);
    });

    it('claims, completes and replays idempotency keys; detects mismatches and in-flight use', async () => {
      const { engine } = await fresh();
      const idem = new SqlIdempotencyStore(engine);
      const base = {
        owner: 'acct_p:test',
        key: 'k1',
        fingerprint: 'f1',
        now: NOW,
        lockSeconds: 60,
        ttlSeconds: 86_400,
      };
      expect(await idem.claim({ ...base, requestId: 'req_1' })).toEqual({ kind: 'claimed' });
      expect(await idem.claim({ ...base, requestId: 'req_2' })).toEqual({ kind: 'in_flight' });
      expect(await idem.claim({ ...base, requestId: 'req_2', fingerprint: 'f2' })).toEqual({
        kind: 'mismatch',
        fingerprint: 'f1',
      });
      await idem.complete('acct_p:test', 'k1', 'req_1', 200, 'body');
      expect(await idem.claim({ ...base, requestId: 'req_3' })).toEqual({
        kind: 'replay',
        status: 200,
        body: 'body',
        requestId: 'req_1',
      });
      expect(await idem.claim({ ...base, owner: 'acct_q:test', requestId: 'req_4' })).toEqual({ kind: 'claimed' });
      // A day later the key is new again.
      expect(await idem.claim({ ...base, requestId: 'req_5', fingerprint: 'f9', now: NOW + 86_400 })).toEqual({
        kind: 'claimed',
      });
    });

    it('lets a retry take over a key whose request died', async () => {
      const { engine } = await fresh();
      const idem = new SqlIdempotencyStore(engine);
      const base = { owner: 'o', key: 'k', fingerprint: 'f', lockSeconds: 60, ttlSeconds: 86_400 };
      expect((await idem.claim({ ...base, requestId: 'req_1', now: NOW })).kind).toBe('claimed');
      expect((await idem.claim({ ...base, requestId: 'req_2', now: NOW + 59 })).kind).toBe('in_flight');
      expect((await idem.claim({ ...base, requestId: 'req_3', now: NOW + 60 })).kind).toBe('claimed');
      expect((await idem.claim({ ...base, requestId: 'req_4', now: NOW + 61 })).kind).toBe('in_flight');
      expect(await idem.deleteOlderThan(NOW + 61)).toBe(1);
    });

    it('stores API keys by hash and revokes them', async () => {
      const { engine } = await fresh();
      const keys = new SqlApiKeyStore(engine);
      const record = {
        id: 'key_1',
        keyHash: 'ab'.repeat(32),
        display: 'sk_test_****abcd',
        livemode: true,
        platform: 'acct_p',
        userId: 'usr_1',
        created: NOW,
        revokedAt: null,
      };
      await keys.insert(record);
      expect(await keys.findByHash(record.keyHash)).toEqual(record);
      expect(await keys.findByHash('cd'.repeat(32))).toBeUndefined();
      expect(await keys.revoke('key_1', NOW + 1)).toBe('revoked');
      expect(await keys.revoke('key_1', NOW + 2)).toBe('already_revoked');
      expect(await keys.revoke('key_nope', NOW)).toBe('missing');
      expect((await keys.findByHash(record.keyHash))?.revokedAt).toBe(NOW + 1);
      expect(await keys.list()).toHaveLength(1);
    });

    it('records every entry of an audit batch, whatever its size, field for field', async () => {
      const { engine } = await fresh();
      const audit = new SqlAuditLog(engine);
      const entry = (i: number): AuditEntry => ({
        time: NOW + i,
        requestId: `req_${i}`,
        keyId: i % 2 === 0 ? null : `key_${i}`,
        platform: 'acct_p',
        account: `acct_${i % 3}`,
        livemode: i % 5 === 0,
        operation: 'find',
        scopeType: i % 2 === 0 ? 'account' : 'user',
        scopeUser: i % 2 === 0 ? null : `usr_${i}`,
        name: i % 7 === 0 ? null : `name_${i}`,
        outcome: 'ok',
        status: 200,
      });
      // Recorded together, they are written together: 343 rows cut into inserts of several sizes.
      const entries = Array.from({ length: 343 }, (_, i) => entry(i));
      await Promise.all(entries.map((e) => audit.record(e)));
      await audit.record(entry(343));
      const stored = await audit.query({ limit: 1000 });
      expect(stored).toHaveLength(344);
      expect([...stored].sort((a, b) => a.time - b.time)).toEqual([...entries, entry(343)]);
    });

    it('fails the entries of an audit write that fails, and records the next ones', async () => {
      const { engine } = await fresh();
      const audit = new SqlAuditLog(engine);
      const entry = (requestId: string) => auditEntry({ time: NOW, requestId });
      // A NOT NULL column left null: the database refuses the write that holds it.
      const broken = { ...entry('req_broken'), platform: null as unknown as string };
      const outcomes = await Promise.allSettled([audit.record(entry('req_a')), audit.record(broken)]);
      // Only the row at fault fails: the batch they were written in is retried row by row.
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
      await audit.record(entry('req_b'));
      const stored = (await audit.query({ limit: 10 })).map((e) => e.requestId);
      expect(stored.sort()).toEqual(['req_a', 'req_b']);
    });
  });
}
