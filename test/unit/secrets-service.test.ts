/**
 * SecretsService, the domain's rules, on the real stores over SQLite `:memory:` with a clock the
 * test moves: create-or-replace by (name, scope), the cap of 10 per scope, expiry to the second and
 * the sweep, cursor pagination, namespaces, user-bound callers, and sealed payloads.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { latestExpiry, type Owner, type Scope } from '../../src/secrets/secret.js';
import { type MemoryStore, openMemoryStore } from '../support/memory-store.js';
import { apiErrorOf } from '../support/rejection.js';

let m: MemoryStore;
beforeEach(async () => {
  m = await openMemoryStore();
});
afterEach(() => m.close());

const OWNER: Owner = { platform: 'acct_P', account: 'acct_P', livemode: false };
const ACCOUNT: Scope = { type: 'account' };
const user = (id: string): Scope => ({ type: 'user', user: id });
const plain = { withPayload: false };
const withPayload = { withPayload: true };

describe('set and find', () => {
  it('stores a secret under its name and scope, and shows its payload only when asked', async () => {
    const created = await m.secrets.set(OWNER, { name: 'k', payload: 'v', scope: ACCOUNT }, plain);
    expect(created).toEqual({
      id: created.id,
      created: m.clock.now(),
      expiresAt: null,
      livemode: false,
      name: 'k',
      scope: ACCOUNT,
    });
    expect(created.id).toMatch(/^appsecret_[0-9A-Za-z]{30}$/);
    expect(await m.secrets.find(OWNER, 'k', ACCOUNT, plain)).toEqual(created);
    expect(await m.secrets.find(OWNER, 'k', ACCOUNT, withPayload)).toEqual({ ...created, payload: 'v' });
    const answered = await m.secrets.set(OWNER, { name: 'k2', payload: 'v2', scope: ACCOUNT }, withPayload);
    expect(answered.payload).toBe('v2');
  });

  it('replaces a secret of the same name and scope with a new one', async () => {
    const first = await m.secrets.set(OWNER, { name: 'k', payload: 'old', scope: ACCOUNT }, plain);
    m.clock.advance(5);
    const second = await m.secrets.set(OWNER, { name: 'k', payload: 'new', scope: ACCOUNT }, plain);
    expect(second.id).not.toBe(first.id);
    expect(second.created).toBe(first.created + 5);
    expect(await m.secrets.find(OWNER, 'k', ACCOUNT, withPayload)).toMatchObject({ id: second.id, payload: 'new' });
    const page = await m.secrets.list(OWNER, ACCOUNT, { limit: 10 }, plain);
    expect(page.secrets.map((s) => s.id)).toEqual([second.id]);
  });

  it('keeps the payload sealed in the store, bound to its row', async () => {
    await m.secrets.set(OWNER, { name: 'k', payload: 'a very secret payload', scope: ACCOUNT }, plain);
    const rows = await m.stores.engine.db.selectFrom('secrets').select(['name', 'ciphertext']).execute();
    expect(rows).toHaveLength(1);
    expect(Buffer.from(rows[0]?.ciphertext as Uint8Array).includes(Buffer.from('a very secret payload'))).toBe(false);
    // The envelope of one row does not open as another's: moved under another name, it is corrupt.
    await m.secrets.set(OWNER, { name: 'other', payload: 'x', scope: ACCOUNT }, plain);
    await m.stores.engine.db
      .updateTable('secrets')
      .set({ ciphertext: rows[0]?.ciphertext as Uint8Array })
      .where('name', '=', 'other')
      .execute();
    const error = await apiErrorOf(m.secrets.find(OWNER, 'other', ACCOUNT, withPayload));
    expect(error).toMatchObject({ status: 500, reason: 'secret_corrupted' });
    // Without its payload the secret is still found.
    expect((await m.secrets.find(OWNER, 'other', ACCOUNT, plain)).name).toBe('other');
  });

  it('answers a missing secret with resource_missing on name', async () => {
    const error = await apiErrorOf(m.secrets.find(OWNER, 'nope', ACCOUNT, plain));
    expect(error).toMatchObject({ status: 404, reason: 'resource_missing', param: 'name' });
  });
});

describe('namespaces', () => {
  it('keeps platforms, connected accounts, modes, scope types and users apart', async () => {
    const owners: Owner[] = [
      OWNER,
      { platform: 'acct_Q', account: 'acct_Q', livemode: false },
      { platform: 'acct_P', account: 'acct_C', livemode: false },
      { platform: 'acct_P', account: 'acct_P', livemode: true },
    ];
    const scopes = [ACCOUNT, user('usr_1'), user('usr_2')];
    for (const [o, owner] of owners.entries())
      for (const [s, scope] of scopes.entries())
        await m.secrets.set(owner, { name: 'same', payload: `${o}/${s}`, scope }, plain);
    for (const [o, owner] of owners.entries())
      for (const [s, scope] of scopes.entries()) {
        expect((await m.secrets.find(owner, 'same', scope, withPayload)).payload).toBe(`${o}/${s}`);
        expect((await m.secrets.list(owner, scope, { limit: 100 }, plain)).secrets).toHaveLength(1);
      }
    expect((await m.secrets.find(owners[3] as Owner, 'same', ACCOUNT, plain)).livemode).toBe(true);
  });

  it('lets a user-bound caller use account scope and its own user only', async () => {
    const bound: Owner = { ...OWNER, boundUser: 'usr_me' };
    await m.secrets.set(bound, { name: 'a', payload: 'p', scope: ACCOUNT }, plain);
    await m.secrets.set(bound, { name: 'u', payload: 'p', scope: user('usr_me') }, plain);
    await m.secrets.set(OWNER, { name: 'theirs', payload: 'p', scope: user('usr_other') }, plain);
    const attempts = [
      () => m.secrets.set(bound, { name: 'x', payload: 'p', scope: user('usr_other') }, plain),
      () => m.secrets.find(bound, 'theirs', user('usr_other'), plain),
      () => m.secrets.list(bound, user('usr_other'), { limit: 10 }, plain),
      () => m.secrets.delete(bound, 'theirs', user('usr_other')),
    ];
    for (const attempt of attempts) {
      expect(await apiErrorOf(attempt)).toMatchObject({
        status: 403,
        reason: 'secret_access_denied',
        param: 'scope[user]',
      });
    }
    expect((await m.secrets.find(OWNER, 'theirs', user('usr_other'), plain)).name).toBe('theirs');
    expect((await m.secrets.list(bound, user('usr_me'), { limit: 10 }, plain)).secrets.map((s) => s.name)).toEqual([
      'u',
    ]);
  });
});

describe('the cap of 10 per scope', () => {
  it('refuses an 11th name, still replaces an existing one, and counts each scope apart', async () => {
    for (let i = 0; i < 10; i++) await m.secrets.set(OWNER, { name: `n${i}`, payload: 'p', scope: ACCOUNT }, plain);
    const error = await apiErrorOf(m.secrets.set(OWNER, { name: 'n10', payload: 'p', scope: ACCOUNT }, plain));
    expect(error).toMatchObject({ status: 400, reason: 'secret_limit_reached', param: 'name' });
    await m.secrets.set(OWNER, { name: 'n3', payload: 'replaced', scope: ACCOUNT }, plain);
    await m.secrets.set(OWNER, { name: 'n10', payload: 'p', scope: user('usr_1') }, plain);
    await m.secrets.delete(OWNER, 'n0', ACCOUNT);
    await m.secrets.set(OWNER, { name: 'n10', payload: 'fits', scope: ACCOUNT }, plain);
    expect((await m.secrets.list(OWNER, ACCOUNT, { limit: 100 }, plain)).secrets).toHaveLength(10);
  });
});

describe('expiry', () => {
  it('accepts from the next second to 100 years ahead, and refuses the rest', async () => {
    const now = m.clock.now();
    for (const expiresAt of [now - 1, now]) {
      const error = await apiErrorOf(
        m.secrets.set(OWNER, { name: 'e', payload: 'p', scope: ACCOUNT, expiresAt }, plain),
      );
      expect(error).toMatchObject({ status: 400, reason: 'expires_at_invalid', param: 'expires_at' });
    }
    const tooFar = await apiErrorOf(
      m.secrets.set(OWNER, { name: 'e', payload: 'p', scope: ACCOUNT, expiresAt: latestExpiry(now) + 1 }, plain),
    );
    expect(tooFar.message).toMatch(/100 years/);
    for (const expiresAt of [now + 1, latestExpiry(now)]) {
      const set = await m.secrets.set(OWNER, { name: `e${expiresAt}`, payload: 'p', scope: ACCOUNT, expiresAt }, plain);
      expect(set.expiresAt).toBe(expiresAt);
    }
  });

  it('hides a secret from its expires_at on: find, delete, list, cursors and the cap', async () => {
    const expiresAt = m.clock.now() + 10;
    const short = await m.secrets.set(OWNER, { name: 'short', payload: 'p', scope: ACCOUNT, expiresAt }, plain);
    for (let i = 0; i < 9; i++) await m.secrets.set(OWNER, { name: `n${i}`, payload: 'p', scope: ACCOUNT }, plain);
    m.clock.advance(9);
    expect((await m.secrets.find(OWNER, 'short', ACCOUNT, plain)).id).toBe(short.id);
    await apiErrorOf(m.secrets.set(OWNER, { name: 'eleventh', payload: 'p', scope: ACCOUNT }, plain));
    m.clock.advance(1);
    expect(await apiErrorOf(m.secrets.find(OWNER, 'short', ACCOUNT, plain))).toMatchObject({ status: 404 });
    expect(await apiErrorOf(m.secrets.delete(OWNER, 'short', ACCOUNT))).toMatchObject({ status: 404 });
    const cursor = await apiErrorOf(m.secrets.list(OWNER, ACCOUNT, { limit: 10, startingAfter: short.id }, plain));
    expect(cursor).toMatchObject({ status: 404, param: 'starting_after' });
    const listed = await m.secrets.list(OWNER, ACCOUNT, { limit: 100 }, plain);
    expect(listed.secrets.map((s) => s.name)).not.toContain('short');
    await m.secrets.set(OWNER, { name: 'eleventh', payload: 'fits now', scope: ACCOUNT }, plain);
  });

  it('sweeps expired rows for good, in batches, and leaves the rest', async () => {
    const now = m.clock.now();
    for (let i = 0; i < 5; i++)
      await m.secrets.set(
        OWNER,
        { name: `e${i}`, payload: 'p', scope: user(`usr_${i}`), expiresAt: now + 1 + i },
        plain,
      );
    await m.secrets.set(OWNER, { name: 'kept', payload: 'p', scope: ACCOUNT }, plain);
    const rows = () => m.stores.engine.db.selectFrom('secrets').select('name').execute();
    expect(await m.secrets.sweepExpired(2)).toBe(0);
    m.clock.advance(3); // e0 and e1 expired (now+1, now+2), e2 expires at now+3: gone too
    expect(await m.secrets.sweepExpired(2)).toBe(3);
    expect((await rows()).map((r) => r.name).sort()).toEqual(['e3', 'e4', 'kept']);
    m.clock.advance(100);
    expect(await m.secrets.sweepExpired(2)).toBe(2);
    expect((await rows()).map((r) => r.name)).toEqual(['kept']);
  });
});

describe('list', () => {
  it('pages newest first with cursors both ways, and reveals payloads only when asked', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push((await m.secrets.set(OWNER, { name: `n${i}`, payload: `p${i}`, scope: ACCOUNT }, plain)).id);
      if (i % 2 === 0) m.clock.advance(1); // some share a second: ties go by id
    }
    const newestFirst = [...ids].reverse();
    const first = await m.secrets.list(OWNER, ACCOUNT, { limit: 3 }, plain);
    expect(first.secrets.map((s) => s.id)).toEqual(newestFirst.slice(0, 3));
    expect(first.hasMore).toBe(true);
    expect(first.secrets.every((s) => s.payload === undefined)).toBe(true);
    const next = await m.secrets.list(OWNER, ACCOUNT, { limit: 3, startingAfter: newestFirst[2] }, withPayload);
    expect(next.secrets.map((s) => [s.id, s.payload])).toEqual(
      newestFirst.slice(3, 6).map((id) => [id, `p${ids.indexOf(id)}`]),
    );
    const last = await m.secrets.list(OWNER, ACCOUNT, { limit: 3, startingAfter: newestFirst[5] }, plain);
    expect(last.secrets.map((s) => s.id)).toEqual(newestFirst.slice(6));
    expect(last.hasMore).toBe(false);
    const back = await m.secrets.list(OWNER, ACCOUNT, { limit: 2, endingBefore: newestFirst[3] }, plain);
    expect(back.secrets.map((s) => s.id)).toEqual(newestFirst.slice(1, 3));
    expect(back.hasMore).toBe(true);
  });

  it('refuses a cursor of another scope as a missing one', async () => {
    const other = await m.secrets.set(OWNER, { name: 'n', payload: 'p', scope: user('usr_1') }, plain);
    const error = await apiErrorOf(m.secrets.list(OWNER, ACCOUNT, { limit: 3, endingBefore: other.id }, plain));
    expect(error).toMatchObject({ status: 404, reason: 'resource_missing', param: 'ending_before' });
  });
});

describe('delete', () => {
  it('removes the secret and answers it without its payload; a second delete is a 404', async () => {
    const created = await m.secrets.set(OWNER, { name: 'gone', payload: 'p', scope: user('usr_1') }, plain);
    const deleted = await m.secrets.delete(OWNER, 'gone', user('usr_1'));
    expect(deleted).toEqual(created);
    expect(await apiErrorOf(m.secrets.delete(OWNER, 'gone', user('usr_1')))).toMatchObject({ status: 404 });
    expect(await apiErrorOf(m.secrets.find(OWNER, 'gone', user('usr_1'), plain))).toMatchObject({ status: 404 });
  });
});
