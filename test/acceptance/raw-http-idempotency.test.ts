/**
 * Idempotency-Key over raw HTTP (fact 45): replays, mismatches, invalid keys, a key whose first
 * request is still running, and keys on GETs (ignored). Keys scoped per platform and per mode, and
 * what stripe-node raises and retries, are in sdk-idempotency.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parseForm } from '../../src/http/form-params.js';
import { fingerprintOf, recordOwner } from '../../src/http/idempotency-guard.js';
import { emulatedPlatformOf, emulatorPrincipal } from '../../src/keys/api-keys.js';
import { call, exchangeRaw, expectApiError, expectOk } from '../support/api-assertions.js';
import { bearer, form, serverForFile } from '../support/in-process-server.js';
import { rawRequest } from '../support/raw-http.js';

const server = serverForFile();

interface Secret {
  readonly id: string;
  readonly name: string;
  readonly payload?: string | null;
}

const create = (key: string, body: string, headers: Record<string, string> = {}) =>
  call(server, 'POST', '/v1/apps/secrets', { headers: { ...form(key), ...headers }, body });
const listNames = async (key: string, headers: Record<string, string> = {}) =>
  expectOk<{ data: Secret[] }>(
    await call(server, 'GET', '/v1/apps/secrets?scope[type]=account', { headers: { ...bearer(key), ...headers } }),
    'list',
  ).data.map((s) => s.name);

/**
 * Makes `idemKey` look taken by a request that is still running: the row the guard writes when it
 * claims a key, with no outcome yet and a lock a minute into the future.
 */
async function insertInFlight(apiKey: string, idemKey: string, body: string): Promise<void> {
  const platform = emulatedPlatformOf(apiKey);
  const params = parseForm(body, 'request body', { maxParams: 256, maxDepth: 4 });
  const now = server.clock.now();
  await server.stores.engine.db
    .insertInto('idempotency_keys')
    .values({
      owner: recordOwner(emulatorPrincipal(apiKey)),
      idem_key: idemKey,
      fingerprint: fingerprintOf('/v1/apps/secrets', ['POST', '/v1/apps/secrets', platform, params]),
      request_id: 'req_inflight',
      status: null,
      body: null,
      created: now,
      locked_until: now + 60,
    })
    .execute();
}

describe('replays', () => {
  it('replays the first answer for the same key and body', async () => {
    const key = 'sk_test_idem_replay';
    const body = 'name=replayed&payload=p&scope[type]=account';
    const first = await create(key, body, { 'Idempotency-Key': 'replay-1' });
    const created = expectOk<Secret>(first, 'secret');
    expect(first.headers.get('idempotent-replayed')).toBeNull();

    const second = await create(key, body, { 'Idempotency-Key': 'replay-1' });
    expectOk(second, 'secret');
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.headers.get('original-request')).toBe(first.headers.get('request-id'));
    expect(second.headers.get('request-id')).not.toBe(first.headers.get('request-id'));
    expect(second.headers.get('idempotency-key')).toBe('replay-1');
    expect(second.text).toBe(first.text);
    expect((second.json as Secret).id).toBe(created.id);
    // Had the second request run, it would have replaced the secret with a new id.
    const found = await call(server, 'GET', '/v1/apps/secrets/find?name=replayed&scope[type]=account', {
      headers: bearer(key),
    });
    expect(expectOk<Secret>(found, 'find').id).toBe(created.id);
    expect(await listNames(key)).toEqual(['replayed']);
  });

  it('replays an expanded payload too', async () => {
    const key = 'sk_test_idem_replay_payload';
    const body = 'name=shown&payload=the-payload&scope[type]=account&expand[]=payload';
    const first = await create(key, body, { 'Idempotency-Key': 'replay-payload' });
    const second = await create(key, body, { 'Idempotency-Key': 'replay-payload' });
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(expectOk<Secret>(second, 'secret').payload).toBe('the-payload');
    expect(second.text).toBe(first.text);
  });

  it('treats the same parameters in another order as the same request', async () => {
    const key = 'sk_test_idem_order';
    await create(key, 'name=o&payload=p&scope[type]=account', { 'Idempotency-Key': 'order-1' });
    const second = await create(key, 'scope[type]=account&payload=p&name=o', { 'Idempotency-Key': 'order-1' });
    expect(second.status).toBe(200);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
  });

  it('does not replay a replaced secret: a new key runs the request again', async () => {
    const key = 'sk_test_idem_new_key';
    const body = 'name=again&payload=p&scope[type]=account';
    const first = expectOk<Secret>(await create(key, body, { 'Idempotency-Key': 'new-1' }), 'secret');
    const second = await create(key, body, { 'Idempotency-Key': 'new-2' });
    expect(second.headers.get('idempotent-replayed')).toBeNull();
    expect(expectOk<Secret>(second, 'secret').name).toBe(first.name);
  });

  it('replays an error answered after execution began (a 404), headers included, even after the name was created', async () => {
    const key = 'sk_test_idem_replay_error';
    const del = (headers: Record<string, string>) =>
      call(server, 'POST', '/v1/apps/secrets/delete', {
        headers: { ...form(key), ...headers },
        body: 'name=later&scope[type]=account',
      });
    const first = await del({ 'Idempotency-Key': 'err-1' });
    expectApiError(first, { status: 404, code: 'resource_missing', param: 'name' });

    expectOk(await create(key, 'name=later&payload=p&scope[type]=account'), 'secret');

    const second = await del({ 'Idempotency-Key': 'err-1' });
    // The replay is the saved 404, with the same headers a fresh error has (Stripe-Should-Retry too).
    expectApiError(second, { status: 404, code: 'resource_missing', param: 'name' });
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.headers.get('original-request')).toBe(first.headers.get('request-id'));
    expect(second.text).toBe(first.text);
    expect(await listNames(key)).toEqual(['later']);
  });
});

describe('mismatches and invalid keys', () => {
  // Stripe's words: fjordllc/bootcamp#4268 (Stripe::IdempotencyError "Keys for idempotent requests can only be used with the same parameters ...").
  it('answers the same key with another body with 400 idempotency_error', async () => {
    const key = 'sk_test_idem_mismatch';
    expectOk(await create(key, 'name=first&payload=p&scope[type]=account', { 'Idempotency-Key': 'mm-1' }), 'secret');
    const res = await create(key, 'name=second&payload=p&scope[type]=account', { 'Idempotency-Key': 'mm-1' });
    const error = expectApiError(res, { status: 400, type: 'idempotency_error', code: undefined });
    expect(error.message).toMatch(/^Keys for idempotent requests can only be used with the same parameters/);
    expect(error.message).toContain("'mm-1'");
    expect(await listNames(key)).toEqual(['first']);
  });

  it('answers the same key on another connected account with 400 idempotency_error', async () => {
    const key = 'sk_test_idem_account';
    const body = 'name=n&payload=p&scope[type]=account';
    expectOk(await create(key, body, { 'Idempotency-Key': 'acct-1' }), 'secret');
    const res = await create(key, body, { 'Idempotency-Key': 'acct-1', 'Stripe-Account': 'acct_1Other' });
    expectApiError(res, { status: 400, type: 'idempotency_error', code: undefined });
    expect(await listNames(key, { 'Stripe-Account': 'acct_1Other' })).toEqual([]);
  });

  // Stripe's words, first path then this one: "... for the same endpoint they were first used for ('/v1/subscriptions' vs '/v1/subscriptions/sub_FY3f6HtuRcrIxG')" (a 400 quoted in a public Android app's StripeSubActivity.kt; activemerchant's remote Stripe tests match its first words).
  it('answers the same key on another endpoint with 400 idempotency_error naming both paths', async () => {
    const key = 'sk_test_idem_endpoint';
    expectOk(await create(key, 'name=n&payload=p&scope[type]=account', { 'Idempotency-Key': 'ep-1' }), 'secret');
    const res = await call(server, 'POST', '/v1/apps/secrets/delete', {
      headers: { ...form(key), 'Idempotency-Key': 'ep-1' },
      body: 'name=n&scope[type]=account',
    });
    const error = expectApiError(res, { status: 400, type: 'idempotency_error', code: undefined });
    expect(error.message).toBe(
      "Keys for idempotent requests can only be used for the same endpoint they were first used for ('/v1/apps/secrets' vs '/v1/apps/secrets/delete'). Try using a key other than 'ep-1' if you meant to execute a different request.",
    );
    expect(await listNames(key)).toEqual(['n']);
  });

  it('accepts a key of 255 characters and rejects one of 256', async () => {
    const key = 'sk_test_idem_long';
    const body = 'name=long-key&payload=p&scope[type]=account';
    const ok = await create(key, body, { 'Idempotency-Key': 'k'.repeat(255) });
    expectOk(ok, 'secret');
    const res = await create(key, 'name=too-long-key&payload=p&scope[type]=account', {
      'Idempotency-Key': 'k'.repeat(256),
    });
    const error = expectApiError(res, { status: 400, code: undefined });
    expect(res.text).not.toContain('k'.repeat(256));
    expect(error.message).toContain('255');
    expect(await listNames(key)).toEqual(['long-key']);
  });

  it('rejects a key with bytes outside printable ASCII', async () => {
    const key = 'sk_test_idem_non_ascii';
    const body = 'name=accent&payload=p&scope[type]=account';
    const request = rawRequest(
      'POST',
      '/v1/apps/secrets',
      [
        ['Authorization', `Bearer ${key}`],
        ['Content-Type', 'application/x-www-form-urlencoded'],
        ['Idempotency-Key', Buffer.from('caf\xe9', 'latin1')],
      ],
      body,
    );
    expectApiError(await exchangeRaw(server.port, request), { status: 400, code: undefined });
    expect(await listNames(key)).toEqual([]);
  });

  it('does not save a request that failed validation, so it can be corrected and sent again', async () => {
    const key = 'sk_test_idem_validation';
    expectApiError(await create(key, 'name=v&scope[type]=account', { 'Idempotency-Key': 'val-1' }), {
      status: 400,
      code: 'parameter_missing',
      param: 'payload',
    });
    const fixed = await create(key, 'name=v&payload=p&scope[type]=account', { 'Idempotency-Key': 'val-1' });
    expectOk(fixed, 'secret');
    expect(fixed.headers.get('idempotent-replayed')).toBeNull();
    expect(await listNames(key)).toEqual(['v']);
  });
});

describe('a key whose first request is still running', () => {
  it('answers 409 with Stripe-Should-Retry: true, and runs nothing', async () => {
    const key = 'sk_test_idem_inflight';
    const body = 'name=inflight&payload=p&scope[type]=account';
    await insertInFlight(key, 'busy-1', body);
    const res = await create(key, body, { 'Idempotency-Key': 'busy-1' });
    const error = expectApiError(res, { status: 409, code: 'idempotency_key_in_use', shouldRetry: true });
    expect(error.message).toMatch(/^There is currently another in-progress request using this Idempotent Key/);
    expect(await listNames(key)).toEqual([]);
  });

  it('answers another body for an in-flight key with 400 mismatch', async () => {
    const key = 'sk_test_idem_inflight_mm';
    await insertInFlight(key, 'busy-2', 'name=inflight&payload=p&scope[type]=account');
    const res = await create(key, 'name=other&payload=p&scope[type]=account', { 'Idempotency-Key': 'busy-2' });
    expectApiError(res, { status: 400, type: 'idempotency_error', code: undefined });
  });
});

describe('keys on GET requests', () => {
  it('are ignored: no echo, no replay', async () => {
    const key = 'sk_test_idem_get';
    const headers = { 'Idempotency-Key': 'get-1' };
    const path = '/v1/apps/secrets?scope[type]=account';
    const first = await call(server, 'GET', path, { headers: { ...bearer(key), ...headers } });
    expect(expectOk<{ data: Secret[] }>(first, 'list').data).toEqual([]);
    expect(first.headers.get('idempotency-key')).toBeNull();

    expectOk(await create(key, 'name=later&payload=p&scope[type]=account'), 'secret');

    const second = await call(server, 'GET', path, { headers: { ...bearer(key), ...headers } });
    expect(expectOk<{ data: Secret[] }>(second, 'list').data.map((s) => s.name)).toEqual(['later']);
    expect(second.headers.get('idempotent-replayed')).toBeNull();
    expect(second.headers.get('idempotency-key')).toBeNull();
  });

  it('are not validated either', async () => {
    const res = await call(server, 'GET', '/v1/apps/secrets?scope[type]=account', {
      headers: { ...bearer('sk_test_idem_get_long'), 'Idempotency-Key': 'g'.repeat(300) },
    });
    expectOk(res, 'list');
  });

  it('do not collide with a POST using the same key', async () => {
    const key = 'sk_test_idem_get_post';
    await call(server, 'GET', '/v1/apps/secrets?scope[type]=account', {
      headers: { ...bearer(key), 'Idempotency-Key': 'mixed-1' },
    });
    const res = await create(key, 'name=m&payload=p&scope[type]=account', { 'Idempotency-Key': 'mixed-1' });
    expectOk(res, 'secret');
    expect(res.headers.get('idempotent-replayed')).toBeNull();
  });
});

describe('the 24-hour window', () => {
  it('replays for 24 hours; then the key runs afresh, and the sweep forgets the old record', async () => {
    const key = 'sk_test_idem_window';
    const owner = recordOwner(emulatorPrincipal(key));
    const records = async () =>
      (
        await server.stores.engine.db
          .selectFrom('idempotency_keys')
          .select('request_id')
          .where('owner', '=', owner)
          .execute()
      ).map((r) => r.request_id);
    const first = await create(key, 'name=w&payload=p1&scope[type]=account', { 'Idempotency-Key': 'window-1' });
    const created = expectOk<Secret>(first, 'secret');
    await create(key, 'name=w2&payload=p&scope[type]=account', { 'Idempotency-Key': 'window-2' });
    server.clock.advance(12 * 3600);
    const recent = await create(key, 'name=w3&payload=p&scope[type]=account', { 'Idempotency-Key': 'window-3' });
    server.clock.advance(12 * 3600 - 1);
    const replay = await create(key, 'name=w&payload=p1&scope[type]=account', { 'Idempotency-Key': 'window-1' });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(expectOk<Secret>(replay).id).toBe(created.id);

    server.clock.advance(1);
    const afresh = await create(key, 'name=w&payload=p2&scope[type]=account', { 'Idempotency-Key': 'window-1' });
    expect(afresh.headers.get('idempotent-replayed')).toBeNull();
    expect(expectOk<Secret>(afresh, 'secret').id).not.toBe(created.id);
    // window-2 is past its 24 hours and goes; window-1 started again and window-3 is 12 hours old.
    await server.sweep();
    expect((await records()).sort()).toEqual(
      [afresh.headers.get('request-id'), recent.headers.get('request-id')].sort(),
    );
  });
});
