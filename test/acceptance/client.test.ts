import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiError,
  AuthenticationError,
  ConnectionError,
  IdempotencyError,
  InvalidRequestError,
  PermissionError,
  RateLimitError,
  type Secret,
  SecretStoreClient,
} from '../../src/client/index.js';
import { type Answer, type FakeServer, sampleSecret, startFakeServer } from '../support/fake-server.js';
import { serverForFile } from '../support/in-process-server.js';
import { assertMatchesSchema } from '../support/openapi.js';
import { freePort, ROOT } from '../support/server-process.js';

const server = serverForFile();

const clientFor = (apiKey: string, extra: Partial<ConstructorParameters<typeof SecretStoreClient>[0]> = {}) =>
  new SecretStoreClient({ apiKey, baseUrl: server.url, ...extra });

describe('SecretStoreClient against a running server', () => {
  it('creates, finds, lists and deletes', async () => {
    const client = clientFor('sk_test_client1');
    const scope = { type: 'user' as const, user: 'usr_c1' };
    const created = await client.secrets.create({ name: 'a key', payload: 'ünï+&=%', scope, expand: ['payload'] });
    assertMatchesSchema('create', created);
    expect(created.payload).toBe('ünï+&=%');
    const found = await client.secrets.find({ name: 'a key', scope, expand: ['payload'] });
    assertMatchesSchema('find', found);
    expect(found).toEqual(created);
    const withoutPayload = await client.secrets.find({ name: 'a key', scope });
    expect('payload' in withoutPayload).toBe(false);
    const page = await client.secrets.list({ scope, expand: ['data.payload'] });
    assertMatchesSchema('list', page);
    expect(page.data.map((s) => s.payload)).toEqual(['ünï+&=%']);
    const deleted = await client.secrets.deleteWhere({ name: 'a key', scope });
    assertMatchesSchema('delete', deleted);
    expect(deleted).toMatchObject({ id: created.id, deleted: true });
    await expect(client.secrets.find({ name: 'a key', scope })).rejects.toBeInstanceOf(InvalidRequestError);
  });

  it('sets expiry, and acts on a connected account from config or per call', async () => {
    const expiresAt = server.clock.now() + 3600;
    const onAccount = clientFor('sk_test_client2', { stripeAccount: 'acct_Conn1' });
    const created = await onAccount.secrets.create({ name: 'e', payload: 'p', scope: { type: 'account' }, expiresAt });
    expect(created.expires_at).toBe(expiresAt);
    const plain = clientFor('sk_test_client2');
    await expect(plain.secrets.find({ name: 'e', scope: { type: 'account' } })).rejects.toMatchObject({
      statusCode: 404,
    });
    const perCall = await plain.secrets.find(
      { name: 'e', scope: { type: 'account' } },
      { stripeAccount: 'acct_Conn1' },
    );
    expect(perCall.id).toBe(created.id);
  });

  it('pages through more than one page with listAll, newest first', async () => {
    const client = clientFor('sk_test_client3');
    const scope = { type: 'account' as const };
    for (let i = 0; i < 10; i++) await client.secrets.create({ name: `n${i}`, payload: `p${i}`, scope });
    const seen: Secret[] = [];
    for await (const secret of client.secrets.listAll({ scope, limit: 3 })) seen.push(secret);
    expect(seen.map((s) => s.name)).toEqual(['n9', 'n8', 'n7', 'n6', 'n5', 'n4', 'n3', 'n2', 'n1', 'n0']);
    const first = await client.secrets.list({ scope, limit: 3 });
    expect(first.has_more).toBe(true);
    const back = await client.secrets.list({ scope, limit: 3, endingBefore: seen[5]?.id });
    expect(back.data.map((s) => s.name)).toEqual(['n7', 'n6', 'n5']);
  });

  it('replays with a per-call idempotency key', async () => {
    const client = clientFor('sk_test_client4');
    const params = { name: 'once', payload: 'x', scope: { type: 'account' as const } };
    const a = await client.secrets.create(params, { idempotencyKey: 'client-idem-1' });
    const b = await client.secrets.create(params, { idempotencyKey: 'client-idem-1' });
    expect(b.id).toBe(a.id);
    await expect(
      client.secrets.create({ ...params, payload: 'other' }, { idempotencyKey: 'client-idem-1' }),
    ).rejects.toBeInstanceOf(IdempotencyError);
  });

  it('raises each error class with type, code, param, status and request id', async () => {
    const missing = await clientFor('sk_test_client5')
      .secrets.find({ name: 'nope', scope: { type: 'account' } })
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(InvalidRequestError);
    expect(missing).toMatchObject({
      type: 'invalid_request_error',
      code: 'resource_missing',
      param: 'name',
      statusCode: 404,
      message: "No such secret: 'nope'",
    });
    expect((missing as InvalidRequestError).requestId).toMatch(/^req_/);
    await expect(clientFor('sk_live_unregistered').secrets.list({ scope: { type: 'account' } })).rejects.toBeInstanceOf(
      AuthenticationError,
    );
    await expect(
      clientFor('sk_test_client5', { stripeAccount: 'not-an-account' }).secrets.list({ scope: { type: 'account' } }),
    ).rejects.toBeInstanceOf(PermissionError);
    const port = await freePort();
    const unreachable = new SecretStoreClient({
      apiKey: 'sk_test_x',
      baseUrl: `http://127.0.0.1:${port}`,
      maxRetries: 0,
    });
    await expect(unreachable.secrets.list({ scope: { type: 'account' } })).rejects.toBeInstanceOf(ConnectionError);
  });
});

describe('SecretStoreClient retries and error mapping (scripted server)', () => {
  let fake: FakeServer;
  let script: (index: number) => Answer;
  beforeAll(async () => {
    fake = await startFakeServer((_, index) => script(index));
  });
  afterAll(() => fake.close());

  const client = (maxRetries = 2) =>
    new SecretStoreClient({ apiKey: 'sk_test_fake', baseUrl: fake.url, maxRetries, minRetryDelayMs: 5 });
  /** An error answer; `code` undefined for the errors Stripe sends without one. */
  const error = (status: number, type: string, code: string | undefined, headers?: Record<string, string>): Answer => ({
    status,
    body: { error: { code, message: `${status} ${code ?? type}`, type } },
    headers,
  });
  const run = async (answers: Answer[], call: (c: SecretStoreClient) => Promise<unknown>, maxRetries = 2) => {
    fake.requests.length = 0;
    script = (i) => answers[Math.min(i, answers.length - 1)] as Answer;
    const outcome: { value?: unknown; thrown?: unknown } = await call(client(maxRetries)).then(
      (value) => ({ value }),
      (thrown: unknown) => ({ thrown }),
    );
    return { ...outcome, requests: [...fake.requests] };
  };
  const create = (c: SecretStoreClient) => c.secrets.create({ name: 'k', payload: 'v', scope: { type: 'account' } });
  const ok: Answer = { status: 200, body: sampleSecret };

  it('retries 5xx and 409 with the same idempotency key, then succeeds', async () => {
    const r = await run(
      [error(500, 'api_error', 'boom'), error(409, 'invalid_request_error', 'lock_timeout'), ok],
      create,
    );
    expect(r).toMatchObject({ value: sampleSecret });
    expect(r.requests).toHaveLength(3);
    const keys = new Set(r.requests.map((q) => q.headers['idempotency-key']));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toMatch(/^secret-store-client-/);
  });

  it('retries a dropped connection', async () => {
    const r = await run(['hang-up', ok], create);
    expect(r).toMatchObject({ value: sampleSecret });
    expect(r.requests).toHaveLength(2);
  });

  it('never retries a 4xx, nor a 5xx marked Stripe-Should-Retry: false; retries a 4xx marked true', async () => {
    const invalid = await run([error(400, 'invalid_request_error', 'parameter_missing'), ok], create);
    expect(invalid.thrown).toBeInstanceOf(InvalidRequestError);
    expect(invalid.requests).toHaveLength(1);
    const noRetry = await run([error(500, 'api_error', 'x', { 'Stripe-Should-Retry': 'false' }), ok], create);
    expect(noRetry.thrown).toBeInstanceOf(ApiError);
    expect(noRetry.requests).toHaveLength(1);
    const forced = await run(
      [error(429, 'invalid_request_error', 'rate_limit', { 'Stripe-Should-Retry': 'true' }), ok],
      create,
    );
    expect(forced).toMatchObject({ value: sampleSecret });
  });

  it('gives up after maxRetries with the last error, and GETs carry no idempotency key', async () => {
    const r = await run([error(503, 'api_error', undefined)], (c) => c.secrets.list({ scope: { type: 'account' } }), 2);
    expect(r.thrown).toBeInstanceOf(ApiError);
    expect(r.thrown).toMatchObject({ statusCode: 503, code: undefined, requestId: 'req_fake3' });
    expect(r.requests).toHaveLength(3);
    expect(r.requests.every((q) => q.headers['idempotency-key'] === undefined)).toBe(true);
  });

  it('maps statuses to the classes stripe-node uses', async () => {
    const cases: Array<[Answer, unknown]> = [
      [error(429, 'invalid_request_error', 'rate_limit'), RateLimitError],
      [error(400, 'invalid_request_error', 'rate_limit'), RateLimitError],
      [error(400, 'idempotency_error', undefined), IdempotencyError],
      [error(404, 'invalid_request_error', 'resource_missing'), InvalidRequestError],
      [error(401, 'invalid_request_error', undefined), AuthenticationError],
      [error(403, 'invalid_request_error', undefined), PermissionError],
      [{ status: 502, body: '<html>bad gateway</html>' }, ApiError],
    ];
    for (const [answer, kind] of cases) {
      const r = await run([answer], create, 0);
      expect(r.thrown).toBeInstanceOf(kind as new () => Error);
    }
  });

  it('encodes requests exactly as stripe-node does', async () => {
    script = () => ok;
    const params = {
      name: 'my key (1)!',
      payload: "a+b=c&d/é*'~",
      scope: { type: 'user' as const, user: 'usr_123' },
      expires_at: 1_956_528_000,
      expand: ['payload' as const],
    };
    fake.requests.length = 0;
    const stripe = new Stripe('sk_test_fake', {
      host: '127.0.0.1',
      port: fake.port,
      protocol: 'http',
      maxNetworkRetries: 0,
    });
    await stripe.apps.secrets.create(params);
    await stripe.apps.secrets.list({ scope: { type: 'account' }, limit: 2, starting_after: 'appsecret_a' });
    await stripe.apps.secrets.find({ name: 'k k', scope: { type: 'account' }, expand: ['payload'] });
    const fromStripe = fake.requests.splice(0);
    const ours = client(0);
    await ours.secrets.create({ ...params, expiresAt: params.expires_at, expires_at: undefined } as never);
    await ours.secrets.list({ scope: { type: 'account' }, limit: 2, startingAfter: 'appsecret_a' });
    await ours.secrets.find({ name: 'k k', scope: { type: 'account' }, expand: ['payload'] });
    const fromOurs = fake.requests.splice(0);
    expect(fromOurs.map((r) => [r.method, r.url, r.body])).toEqual(fromStripe.map((r) => [r.method, r.url, r.body]));
  });
});

describe('the published type declarations', () => {
  it('compile against sample usage, and reject misuse', async () => {
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const result = await promisify(execFile)(process.execPath, [
      tsc,
      '-p',
      join(ROOT, 'test/types/tsconfig.json'),
    ]).then(
      () => ({ code: 0, out: '' }),
      (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
    );
    expect(result.out).toBe('');
    expect(result.code).toBe(0);
  });
});
