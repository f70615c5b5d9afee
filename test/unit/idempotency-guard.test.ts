/**
 * The idempotency guard on the real idempotency store over SQLite `:memory:`, with a clock the test
 * moves: claim, replay, mismatch, a key in flight, the 24-hour window, an abandoned claim taken over
 * after its lock, pruning, and saved answers sealed to their record.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FormValue } from '../../src/http/form-params.js';
import { fingerprintOf, type IdempotentRequest, recordOwner } from '../../src/http/idempotency-guard.js';
import { emulatorPrincipal, type Principal } from '../../src/keys/api-keys.js';
import { type MemoryStore, openMemoryStore } from '../support/memory-store.js';
import { apiErrorOf } from '../support/rejection.js';

let m: MemoryStore;
beforeEach(async () => {
  m = await openMemoryStore();
});
afterEach(() => m.close());

const DAY = 24 * 60 * 60;
const OK = { status: 200, body: '{"id":"appsecret_1"}' };

let requests = 0;
const request = (over: Partial<IdempotentRequest> = {}): IdempotentRequest => ({
  owner: 'acct_P:test:caller_1:',
  key: 'idem-1',
  requestId: `req_${++requests}`,
  fingerprint: fingerprintOf('/v1/apps/secrets', ['POST', '/v1/apps/secrets', 'acct_P', { name: 'n' }]),
  ...over,
});

const claim = (r: IdempotentRequest) => m.guard.claim(m.stores.idempotency, r);
const complete = (r: IdempotentRequest, outcome = OK) => m.guard.complete(m.stores.idempotency, r, outcome);

describe('claim and replay', () => {
  it('lets the first request run and replays its answer to the same request', async () => {
    const first = request();
    expect(await claim(first)).toBeUndefined();
    await complete(first);
    const again = request();
    expect(await claim(again)).toEqual({ status: 200, body: OK.body, headers: undefined, replayOf: first.requestId });
  });

  it('replays an error answer with Stripe-Should-Retry: false', async () => {
    const first = request();
    await claim(first);
    await complete(first, { status: 404, body: '{"error":{}}' });
    expect(await claim(request())).toMatchObject({
      status: 404,
      headers: { 'Stripe-Should-Retry': 'false' },
      replayOf: first.requestId,
    });
  });

  it('answers 409, retryable, while the first request has not finished', async () => {
    await claim(request());
    const error = await apiErrorOf(claim(request()));
    expect(error).toMatchObject({ status: 409, reason: 'idempotency_key_in_use', shouldRetry: true });
  });

  it('answers other parameters under the same key with 400 idempotency_error, finished or not', async () => {
    const other = fingerprintOf('/v1/apps/secrets', ['POST', '/v1/apps/secrets', 'acct_P', { name: 'other' }]);
    const first = request();
    await claim(first);
    for (const moment of ['in flight', 'finished']) {
      const error = await apiErrorOf(claim(request({ fingerprint: other })));
      expect(error, moment).toMatchObject({ status: 400, type: 'idempotency_error', reason: 'idempotency_key_reused' });
      await complete(first);
    }
  });

  it("keeps each caller's records apart", async () => {
    const first = request();
    await claim(first);
    await complete(first);
    expect(await claim(request({ owner: 'acct_P:test:caller_2:' }))).toBeUndefined();
    expect(await claim(request({ key: 'idem-2' }))).toBeUndefined();
  });
});

describe('time', () => {
  it('replays for 24 hours, then runs the key afresh, with any parameters', async () => {
    const first = request();
    await claim(first);
    await complete(first);
    m.clock.advance(DAY - 1);
    expect(await claim(request())).toMatchObject({ replayOf: first.requestId });
    m.clock.advance(1);
    const other = fingerprintOf('/v1/apps/secrets/delete', [
      'POST',
      '/v1/apps/secrets/delete',
      'acct_P',
      { name: 'n' },
    ]);
    const fresh = request({ fingerprint: other });
    expect(await claim(fresh)).toBeUndefined();
    await complete(fresh, { status: 200, body: '{"deleted":true}' });
    expect(await claim(request({ fingerprint: other }))).toMatchObject({
      body: '{"deleted":true}',
      replayOf: fresh.requestId,
    });
  });

  it('lets a retry take over an unfinished claim once its minute-long lock is over, same request only', async () => {
    const abandoned = request();
    await claim(abandoned);
    m.clock.advance(59);
    await apiErrorOf(claim(request()));
    m.clock.advance(1);
    const other = fingerprintOf('/v1/apps/secrets', ['POST', '/v1/apps/secrets', 'acct_P', { name: 'other' }]);
    expect(await apiErrorOf(claim(request({ fingerprint: other })))).toMatchObject({
      reason: 'idempotency_key_reused',
    });
    const retry = request();
    expect(await claim(retry)).toBeUndefined();
    await complete(retry);
    // The abandoned request, finishing late, can no longer save its answer over the retry's.
    await complete(abandoned, { status: 500, body: 'late' });
    expect(await claim(request())).toMatchObject({ body: OK.body, replayOf: retry.requestId });
  });

  it('prunes the records older than 24 hours and keeps the others', async () => {
    const old = request({ key: 'old' });
    await claim(old);
    await complete(old);
    m.clock.advance(DAY / 2);
    const recent = request({ key: 'recent' });
    await claim(recent);
    await complete(recent);
    expect(await m.guard.prune(m.stores.idempotency)).toBe(0);
    m.clock.advance(DAY / 2);
    expect(await m.guard.prune(m.stores.idempotency)).toBe(1);
    const keys = await m.stores.engine.db.selectFrom('idempotency_keys').select('idem_key').execute();
    expect(keys.map((k) => k.idem_key)).toEqual(['recent']);
  });
});

describe('saved answers', () => {
  it('are sealed, and open only as the record they were saved for', async () => {
    const payload = 'an expanded payload in a saved answer';
    const mine = request();
    await claim(mine);
    await complete(mine, { status: 200, body: `{"payload":"${payload}"}` });
    const theirs = request({ owner: 'acct_P:test:caller_2:' });
    await claim(theirs);
    await complete(theirs, { status: 200, body: '{"payload":"theirs"}' });
    const rows = await m.stores.engine.db.selectFrom('idempotency_keys').select(['owner', 'body']).execute();
    expect(rows.some((r) => r.body?.includes(payload) || Buffer.from(r.body ?? '', 'base64').includes(payload))).toBe(
      false,
    );
    // Another caller's record holding my saved answer does not replay it to them.
    const sealed = rows.find((r) => r.owner === mine.owner)?.body as string;
    await m.stores.engine.db
      .updateTable('idempotency_keys')
      .set({ body: sealed })
      .where('owner', '=', theirs.owner)
      .execute();
    await expect(claim(request({ owner: theirs.owner }))).rejects.toThrow();
    expect(await claim(request())).toMatchObject({ body: `{"payload":"${payload}"}` });
  });
});

describe('fingerprints and record owners', () => {
  it('take parameters in any order as the same request, and any change as another', () => {
    const a = fingerprintOf('/p', [
      'POST',
      '/p',
      'acct_1',
      { name: 'n', scope: { type: 'user', user: 'u' }, expand: ['x'] },
    ]);
    const b = fingerprintOf('/p', [
      'POST',
      '/p',
      'acct_1',
      { expand: ['x'], scope: { user: 'u', type: 'user' }, name: 'n' },
    ]);
    expect(a).toBe(b);
    const changes: FormValue[][] = [
      ['POST', '/p', 'acct_2', { name: 'n', scope: { type: 'user', user: 'u' }, expand: ['x'] }],
      ['POST', '/q', 'acct_1', { name: 'n', scope: { type: 'user', user: 'u' }, expand: ['x'] }],
      ['POST', '/p', 'acct_1', { name: 'n', scope: { type: 'user', user: 'v' }, expand: ['x'] }],
      ['POST', '/p', 'acct_1', { name: 'n', scope: { type: 'user', user: 'u' }, expand: ['x', 'y'] }],
    ];
    for (const changed of changes) expect(fingerprintOf('/p', changed)).not.toBe(a);
  });

  it('name the platform, the mode, the key and the bound user', () => {
    const base: Principal = { keyId: 'key_1', platform: 'acct_P', livemode: false, user: null, caller: 'key_1' };
    const owners = new Set(
      [
        base,
        { ...base, platform: 'acct_Q' },
        { ...base, livemode: true },
        { ...base, caller: 'key_2', keyId: 'key_2' },
        { ...base, user: 'usr_1' },
        emulatorPrincipal('sk_test_a'),
        emulatorPrincipal('sk_test_b'),
      ].map(recordOwner),
    );
    expect(owners.size).toBe(7);
    expect([...owners].join()).not.toContain('sk_test_');
  });
});
