/**
 * Response headers over raw HTTP: Request-Id, Stripe-Version, Stripe-Account, Idempotency-Key and
 * Content-Type, on successes and errors alike.
 */
import { describe, expect, it } from 'vitest';
import { call, expectApiError, expectOk, REQUEST_ID } from '../support/api-assertions.js';
import type { RawResponse } from '../support/in-process-server.js';
import { bearer, form, serverForFile } from '../support/in-process-server.js';
import { rawRequest, sendRaw } from '../support/raw-http.js';

const DEFAULT_VERSION = '2026-10-28.endive';

const server = serverForFile();

const list = (headers: Record<string, string> = {}, key = 'sk_test_headers') =>
  call(server, 'GET', '/v1/apps/secrets?scope[type]=account', { headers: { ...bearer(key), ...headers } });

const create = (body: string, headers: Record<string, string> = {}, key = 'sk_test_headers') =>
  call(server, 'POST', '/v1/apps/secrets', { headers: { ...form(key), ...headers }, body });

describe('Request-Id', () => {
  it('is on successes and errors, and unique per request', async () => {
    const answers: RawResponse[] = [
      await list(),
      await list(),
      await create('name=rid&payload=p&scope[type]=account'),
      await call(server, 'GET', '/v1/apps/secrets?scope[type]=account'), // 401
      await call(server, 'GET', '/v1/customers', { headers: bearer() }), // 404
      await create('name=rid&scope[type]=account'), // 400
      await list({ 'Stripe-Account': 'nope' }), // 403
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 401, 404, 400, 403]);
    const ids = answers.map((a) => a.headers.get('request-id') ?? '');
    for (const id of ids) expect(id).toMatch(REQUEST_ID);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('Stripe-Version', () => {
  it('answers with the default version when the request names none', async () => {
    const res = await list();
    expectOk(res, 'list');
    expect(res.headers.get('stripe-version')).toBe(DEFAULT_VERSION);
  });

  it.each(['2024-06-20', '2026-10-28.endive', '2023-08-16'])('echoes %s', async (version) => {
    const res = await list({ 'Stripe-Version': version });
    expectOk(res, 'list');
    expect(res.headers.get('stripe-version')).toBe(version);
  });

  it('echoes the version on an error answer too', async () => {
    const res = await call(server, 'GET', '/v1/apps/secrets?scope[type]=account', {
      headers: { 'Stripe-Version': '2024-06-20' },
    });
    expectApiError(res, { status: 401, code: undefined });
    expect(res.headers.get('stripe-version')).toBe('2024-06-20');
  });

  it('echoes the version on a POST too', async () => {
    const res = await create('name=versioned&payload=p&scope[type]=account', { 'Stripe-Version': '2024-06-20' });
    expectOk(res, 'secret');
    expect(res.headers.get('stripe-version')).toBe('2024-06-20');
  });

  it.each(['latest', '2024-6-20', '2024-06-20.Basil', '2024-06-20;drop', 'x'.repeat(300)])(
    'rejects the malformed version %s with 400',
    async (version) => {
      const res = await list({ 'Stripe-Version': version });
      const error = expectApiError(res, { status: 400, code: undefined });
      expect(error.message.length).toBeLessThan(400);
      expect(res.headers.get('stripe-version')).toBe(DEFAULT_VERSION);
    },
  );
});

describe('echoed request headers on answers that fail before the endpoint', () => {
  const sent = { 'Stripe-Version': '2024-06-20', 'Stripe-Account': 'acct_1Echo', 'Idempotency-Key': 'echo-on-error' };
  const echoed = (res: RawResponse) => ({
    'Stripe-Version': res.headers.get('stripe-version'),
    'Stripe-Account': res.headers.get('stripe-account'),
    'Idempotency-Key': res.headers.get('idempotency-key'),
  });

  it('are on a 404 for an unknown route', async () => {
    const res = await call(server, 'POST', '/v1/customers', { headers: { ...form(), ...sent }, body: 'email=a' });
    expectApiError(res, { status: 404, code: undefined });
    expect(echoed(res)).toEqual(sent);
  });

  it('are on a 400 for a parameter, a 401 and a 403', async () => {
    const invalid = await create('name=echo&scope[type]=account', sent);
    expectApiError(invalid, { status: 400, code: 'parameter_missing', param: 'payload' });
    expect(echoed(invalid)).toEqual(sent);
    const unauthenticated = await call(server, 'POST', '/v1/apps/secrets', { headers: sent, body: 'name=x' });
    expectApiError(unauthenticated, { status: 401, code: undefined });
    expect(echoed(unauthenticated)).toEqual(sent);
    const badAccount = await create('name=echo&payload=p&scope[type]=account', { ...sent, 'Stripe-Account': 'cus_1' });
    expectApiError(badAccount, { status: 403, code: 'account_invalid' });
    expect(echoed(badAccount)).toEqual({ ...sent, 'Stripe-Account': null });
  });

  it('leave out a malformed idempotency key, which is refused', async () => {
    const res = await create('name=echo&payload=p&scope[type]=account', { 'Idempotency-Key': 'k'.repeat(300) });
    expectApiError(res, { status: 400, code: undefined });
    expect(res.headers.get('idempotency-key')).toBeNull();
  });
});

describe('Stripe-Account', () => {
  it('is echoed, and selects the connected account’s secrets', async () => {
    const key = 'sk_test_connect_headers';
    const made = await create(
      'name=on-connected&payload=p&scope[type]=account',
      { 'Stripe-Account': 'acct_1Conn' },
      key,
    );
    expectOk(made, 'secret');
    expect(made.headers.get('stripe-account')).toBe('acct_1Conn');

    const onConnected = await list({ 'Stripe-Account': 'acct_1Conn' }, key);
    expect(onConnected.headers.get('stripe-account')).toBe('acct_1Conn');
    expect(expectOk<{ data: { name: string }[] }>(onConnected, 'list').data.map((s) => s.name)).toEqual([
      'on-connected',
    ]);

    const onPlatform = await list({}, key);
    expect(onPlatform.headers.get('stripe-account')).toBeNull();
    expect(expectOk<{ data: unknown[] }>(onPlatform, 'list').data).toEqual([]);
  });

  it.each(['bogus', 'acct_', 'acct_12-34', 'cus_123'])('rejects the malformed account %s with 403', async (account) => {
    const res = await list({ 'Stripe-Account': account });
    expectApiError(res, { status: 403, code: 'account_invalid' });
    expect(res.headers.get('stripe-account')).toBeNull();
  });
});

describe('Idempotency-Key', () => {
  it('is echoed on a POST', async () => {
    const res = await create('name=idem-echo&payload=p&scope[type]=account', { 'Idempotency-Key': 'echo-key-1' });
    expectOk(res, 'secret');
    expect(res.headers.get('idempotency-key')).toBe('echo-key-1');
  });

  it('is not echoed without one', async () => {
    const res = await create('name=no-idem&payload=p&scope[type]=account');
    expectOk(res, 'secret');
    expect(res.headers.get('idempotency-key')).toBeNull();
  });
});

describe('Content-Type', () => {
  it('is application/json on every kind of answer', async () => {
    const answers = [
      await list(),
      await create('name=ct&payload=p&scope[type]=account'),
      await call(server, 'GET', '/v1/apps/secrets/find?name=missing&scope[type]=account', { headers: bearer() }),
      await call(server, 'GET', '/'),
      await call(server, 'POST', '/v1/apps/secrets', {
        headers: { ...bearer(), 'Content-Type': 'text/plain' },
        body: 'x',
      }),
      await call(server, 'PUT', '/v1/apps/secrets', { headers: bearer() }),
      await call(server, 'OPTIONS', '/v1/apps/secrets', { headers: bearer() }),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 404, 404, 400, 404, 404]);
    // call() has checked Content-Type, Request-Id and that the body is JSON.
    for (const a of answers) expect(a.headers.get('content-type')).toBe('application/json');
  });
});

describe('a client that shuts down its sending side after its request', () => {
  it('still gets the answer to each write and read, which waits for the database', async () => {
    const send = (method: string, path: string, body = '') =>
      sendRaw(
        server.port,
        rawRequest(
          method,
          path,
          [
            ['Authorization', 'Bearer sk_test_half_close'],
            ['Content-Type', 'application/x-www-form-urlencoded'],
          ],
          body,
        ),
      );
    const created = await send('POST', '/v1/apps/secrets', 'name=half&payload=p&scope[type]=account');
    expect(created.dropped).toBe(false);
    expect(created.status).toBe(200);
    const found = await send('GET', '/v1/apps/secrets/find?name=half&scope[type]=account&expand[]=payload');
    expect(JSON.parse(found.body)).toMatchObject({ name: 'half', payload: 'p' });
    const deleted = await send('POST', '/v1/apps/secrets/delete', 'name=half&scope[type]=account');
    expect(deleted.status).toBe(200);
    expect(JSON.parse(deleted.body)).toMatchObject({ name: 'half', deleted: true });
  });
});
