/**
 * The store contract for text at the documented limits: names and users of 5,000 characters, ASCII
 * or outside the Basic Multilingual Plane (20,000 bytes of UTF-8), stored, found, listed, replaced
 * and removed exactly, and audited; and a database made before the digest indexes, migrated with
 * its rows. The strings are random so that no index can compress them small (PostgreSQL's btree
 * compresses a row before it measures it). A NUL character never gets this far: the HTTP edge
 * refuses it (test/acceptance/raw-http-nul-bytes.test.ts, on both engines).
 */
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { SqlAuditLog } from '../../src/audit/audit-log.js';
import type { StoreEngine } from '../../src/store/engine.js';
import { migrateTo, migrateToLatest } from '../../src/store/migrations.js';
import type { ScopeKey, StoredSecret } from '../../src/store/secret-store.js';
import { SqlSecretStore } from '../../src/store/sql-secret-store.js';

type OpenEngine = (name: string, options?: { migrate?: boolean }) => Promise<StoreEngine>;

const NOW = 1_800_000_000;
const rules = { now: NOW, maxPerScope: 10 };
const MAX = 5000;

/** A deterministic generator, so that a failure reproduces. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

const ASCII = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.:';

/** `length` random characters: ASCII, or astral code points (emoji and CJK extension B). */
function noise(length: number, seed: number, astral = false): string {
  const next = random(seed);
  const chars: string[] = [];
  for (let i = 0; i < length; i++) {
    if (!astral) chars.push(ASCII[Math.floor(next() * ASCII.length)] as string);
    else
      chars.push(
        String.fromCodePoint(
          next() < 0.5 ? 0x1f300 + Math.floor(next() * 0x300) : 0x20000 + Math.floor(next() * 0xa6df),
        ),
      );
  }
  return chars.join('');
}

let counter = 0;
function secret(scope: ScopeKey, name: string, overrides: Partial<StoredSecret> = {}): StoredSecret {
  counter += 1;
  return {
    ...scope,
    name,
    id: `appsecret_${String(counter).padStart(30, '0')}`,
    created: NOW + counter,
    expiresAt: null,
    ciphertext: Buffer.from(`sealed:${counter}`),
    ...overrides,
  };
}

const userScope = (user: string): ScopeKey => ({
  platform: 'acct_p',
  account: 'acct_a',
  livemode: false,
  scopeType: 'user',
  scopeUser: user,
});

/** The last character changed: a value an index over a prefix could not tell from the first. */
const twin = (s: string): string => {
  const chars = Array.from(s);
  chars[chars.length - 1] = chars.at(-1) === 'x' ? 'y' : 'x';
  return chars.join('');
};

export function describeTextContract(backend: string, open: OpenEngine): void {
  describe(`store contract on ${backend}: text at the limits`, () => {
    const opened: StoreEngine[] = [];
    let dbCount = 0;
    const fresh = async (options?: { migrate?: boolean }) => {
      const engine = await open(`text_${process.pid}_${Date.now()}_${dbCount++}`, options);
      opened.push(engine);
      return engine;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((e) => e.close()));
    });

    it.each([
      ['ASCII', false],
      ['astral (4 bytes each)', true],
    ] as const)('stores and finds %s names and users of 5,000 characters exactly', async (_, astral) => {
      const store = new SqlSecretStore(await fresh());
      const user = noise(MAX, 1, astral);
      const name = noise(MAX, 2, astral);
      expect(Array.from(name)).toHaveLength(MAX);
      const scope = userScope(user);
      const first = secret(scope, name);
      expect(await store.put(first, rules)).toBe('created');
      // Differing only in the last character: other rows, in the same scope and in another one.
      expect(await store.put(secret(scope, twin(name)), rules)).toBe('created');
      expect(await store.put(secret(userScope(twin(user)), name), rules)).toBe('created');
      const found = await store.find({ ...scope, name }, NOW);
      expect(found?.id).toBe(first.id);
      expect(found?.name).toBe(name);
      expect(found?.scopeUser).toBe(user);
      const replacement = secret(scope, name);
      expect(await store.put(replacement, rules)).toBe('replaced');
      expect(await store.insertIfAbsent(secret(scope, name), rules)).toBe('exists');
      const page = await store.list(scope, { limit: 10 }, NOW);
      expect(page.rows.map((r) => r.name).sort()).toEqual([name, twin(name)].sort());
      expect((await store.findById(scope, replacement.id, NOW))?.name).toBe(name);
      expect((await store.remove({ ...scope, name }, NOW))?.id).toBe(replacement.id);
      expect(await store.find({ ...scope, name }, NOW)).toBeUndefined();
      expect((await store.find({ ...scope, name: twin(name) }, NOW))?.name).toBe(twin(name));
      expect(await store.count()).toBe(2);
    });

    it('audits and queries by a 5,000-character astral name', async () => {
      const audit = new SqlAuditLog(await fresh());
      const name = noise(MAX, 3, true);
      const entry = {
        time: NOW,
        requestId: 'req_long',
        keyId: null,
        platform: 'acct_p',
        account: 'acct_a',
        livemode: false,
        operation: 'find',
        scopeType: 'user',
        scopeUser: noise(MAX, 4, true),
        name,
        outcome: 'ok',
        status: 200,
      };
      await Promise.all([audit.record(entry), audit.record({ ...entry, requestId: 'req_twin', name: twin(name) })]);
      expect(await audit.query({ name, limit: 10 })).toEqual([entry]);
    });

    it('migrates a database made before the digest indexes, keeping its rows findable and unique', async () => {
      const engine = await fresh({ migrate: false });
      await migrateTo(engine, '0002_audit_log');
      const scope = userScope('usr_old');
      const old = [secret(scope, 'one'), secret(scope, 'two'), secret({ ...scope, scopeUser: 'usr_other' }, 'one')];
      for (const s of old) {
        await sql`insert into secrets (id, platform, account, livemode, scope_type, scope_user, name, ciphertext, created, expires_at)
          values (${s.id}, ${s.platform}, ${s.account}, 0, ${s.scopeType}, ${s.scopeUser}, ${s.name}, ${s.ciphertext}, ${s.created}, null)`.execute(
          engine.db,
        );
      }
      expect(await migrateToLatest(engine)).toContain('0003_digest_indexes');
      const store = new SqlSecretStore(engine);
      for (const s of old) expect((await store.find(s, NOW))?.id).toBe(s.id);
      expect((await store.list(scope, { limit: 10 }, NOW)).rows.map((r) => r.name)).toEqual(['two', 'one']);
      expect(await store.put(secret(scope, 'one'), rules)).toBe('replaced');
      expect(await store.put(secret(scope, noise(MAX, 5)), rules)).toBe('created');
      expect(await store.count()).toBe(4);
    });
  });
}
