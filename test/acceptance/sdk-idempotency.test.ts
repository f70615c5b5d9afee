/**
 * Idempotency keys through stripe-node: a replayed failure (the 11th secret), a
 * StripeIdempotencyError for other parameters, keys scoped per platform and mode, and stripe-node's
 * own retries (maxNetworkRetries), which resend the same Idempotency-Key and so must get a replay,
 * never a second secret. Lost responses are simulated by a TCP proxy that lets the request reach the
 * server and then drops the connection before the answer gets back. The wire of a replay (its
 * headers and bytes, an expanded payload, a replayed 404) and requests that failed validation are in
 * raw-http-idempotency.test.ts.
 */
import { connect, createServer, type Socket } from 'node:net';
import Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import { createKey, serverForFile } from '../support/in-process-server.js';
import { assertMatchesSchema } from '../support/openapi.js';
import { expectStripeError, freshKey, ResponseAudit, type Secret } from '../support/sdk.js';

const server = serverForFile();
const audit = new ResponseAudit();
afterEach(() => {
  audit.verify();
});

const ACCOUNT = { type: 'account' } as const;
const replayed = (result: { lastResponse: { headers: Record<string, string> } }) =>
  result.lastResponse.headers['idempotent-replayed'];

async function listIds(stripe: Stripe): Promise<string[]> {
  const list = await stripe.apps.secrets.list({ scope: ACCOUNT, limit: 100 });
  assertMatchesSchema('list', list);
  return list.data.map((s) => s.id);
}

const mismatch = {
  type: 'StripeIdempotencyError',
  statusCode: 400,
  rawType: 'idempotency_error',
  code: undefined,
  param: undefined,
  message: /same parameters/,
} as const;

describe('the same Idempotency-Key', () => {
  it('with different parameters is a StripeIdempotencyError and changes nothing', async () => {
    const stripe = audit.client(server, freshKey('mismatch'));
    const first = await stripe.apps.secrets.create(
      { name: 'a', payload: 'original', scope: ACCOUNT },
      { idempotencyKey: 'idem-mismatch' },
    );
    assertMatchesSchema('create', first);
    const err = await expectStripeError(
      stripe.apps.secrets.create(
        { name: 'a', payload: 'different', scope: ACCOUNT },
        { idempotencyKey: 'idem-mismatch' },
      ),
      mismatch,
    );
    expect(err.message).toContain('idem-mismatch');
    await expectStripeError(
      stripe.apps.secrets.create(
        { name: 'b', payload: 'original', scope: ACCOUNT },
        { idempotencyKey: 'idem-mismatch' },
      ),
      mismatch,
    );
    // Another endpoint with the same key is another request too, and Stripe's message names both.
    await expectStripeError(
      stripe.apps.secrets.deleteWhere({ name: 'a', scope: ACCOUNT }, { idempotencyKey: 'idem-mismatch' }),
      { ...mismatch, message: /^Keys for idempotent requests can only be used for the same endpoint/ },
    );
    const found = await stripe.apps.secrets.find({ name: 'a', scope: ACCOUNT, expand: ['payload'] });
    assertMatchesSchema('find', found);
    expect(found.payload).toBe('original');
    expect(found.id).toBe(first.id);
    expect(await listIds(stripe)).toEqual([first.id]);
  });

  it('replays a failed request (the 11th secret) as the same 400, even once there is room', async () => {
    const stripe = audit.client(server, freshKey('replay_fail'));
    for (let i = 0; i < 10; i++) await stripe.apps.secrets.create({ name: `n${i}`, payload: 'p', scope: ACCOUNT });
    const eleventh = { name: 'eleventh', payload: 'p', scope: ACCOUNT };
    const capError = {
      type: 'StripeInvalidRequestError',
      statusCode: 400,
      code: undefined,
      param: 'name',
    } as const;
    const first = await expectStripeError(
      stripe.apps.secrets.create(eleventh, { idempotencyKey: 'idem-eleventh' }),
      capError,
    );
    expect(first.headers?.['idempotent-replayed']).toBeUndefined();
    await stripe.apps.secrets.deleteWhere({ name: 'n0', scope: ACCOUNT });
    const again = await expectStripeError(
      stripe.apps.secrets.create(eleventh, { idempotencyKey: 'idem-eleventh' }),
      capError,
    );
    expect(again.headers?.['idempotent-replayed']).toBe('true');
    expect(again.headers?.['original-request']).toBe(first.requestId);
    expect(again.message).toBe(first.message);
    await expectStripeError(stripe.apps.secrets.find({ name: 'eleventh', scope: ACCOUNT }), {
      type: 'StripeInvalidRequestError',
      statusCode: 404,
      code: 'resource_missing',
    });
    // A new key is a new request, and there is room now.
    const created = await stripe.apps.secrets.create(eleventh, { idempotencyKey: 'idem-eleventh-2' });
    assertMatchesSchema('create', created);
    expect(replayed(created)).toBeUndefined();
  });
});

describe('idempotency keys are scoped', () => {
  it('per platform: the same key from another API key is a new request', async () => {
    const a = audit.client(server, freshKey('scope_a'));
    const b = audit.client(server, freshKey('scope_b'));
    const params = { name: 'same', payload: 'same', scope: ACCOUNT };
    const fromA = await a.apps.secrets.create(params, { idempotencyKey: 'idem-shared' });
    const fromB = await b.apps.secrets.create(params, { idempotencyKey: 'idem-shared' });
    assertMatchesSchema('create', fromB);
    expect(replayed(fromB)).toBeUndefined();
    expect(fromB.id).not.toBe(fromA.id);
    expect(await listIds(b)).toEqual([fromB.id]);
    // Other parameters under that key are no idempotency error for a third platform either.
    const c = audit.client(server, freshKey('scope_c'));
    const fromC = await c.apps.secrets.create(
      { name: 'other', payload: 'x', scope: ACCOUNT },
      { idempotencyKey: 'idem-shared' },
    );
    assertMatchesSchema('create', fromC);
    expect(await listIds(a)).toEqual([fromA.id]);
  });

  it('per mode: the same key in live and in test mode of one account are two requests', async () => {
    const live = audit.client(server, await createKey(server, ['--mode', 'live', '--account', 'acct_IdemModes']));
    const test = audit.client(server, await createKey(server, ['--mode', 'test', '--account', 'acct_IdemModes']));
    const params = { name: 'm', payload: 'p', scope: ACCOUNT };
    const inLive = await live.apps.secrets.create(params, { idempotencyKey: 'idem-mode' });
    const inTest = await test.apps.secrets.create(params, { idempotencyKey: 'idem-mode' });
    assertMatchesSchema('create', inTest);
    expect(replayed(inTest)).toBeUndefined();
    expect(inLive.livemode).toBe(true);
    expect(inTest.livemode).toBe(false);
    expect(inTest.id).not.toBe(inLive.id);
  });
});

/** A TCP proxy to the server that swallows the answers of its first `drop` connections. */
async function lossyProxy(targetPort: number, drop: number) {
  let connections = 0;
  const sockets = new Set<Socket>();
  const proxy = createServer((client) => {
    connections += 1;
    const lose = connections <= drop;
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream);
    if (lose) {
      // The server has executed the request once it answers; the client never hears of it.
      upstream.once('data', () => {
        client.destroy();
        upstream.destroy();
      });
    } else {
      upstream.pipe(client);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const address = proxy.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        proxy.close(() => resolve());
      }),
  };
}

/** Records every attempt stripe-node makes (retries included) and the Idempotency-Key it sent. */
function recordAttempts(stripe: Stripe): { keys: Array<string | undefined>; statuses: number[] } {
  const seen = { keys: [] as Array<string | undefined>, statuses: [] as number[] };
  stripe.on('request', (event: Stripe.RequestEvent) => seen.keys.push(event.idempotency_key));
  stripe.on('response', (event: Stripe.ResponseEvent) => seen.statuses.push(event.status));
  return seen;
}

describe("stripe-node's retries (maxNetworkRetries)", () => {
  it('a create through a client with maxNetworkRetries: 2 succeeds normally, with the SDK’s own key', async () => {
    const stripe = audit.client(server, freshKey('retry_plain'), { maxNetworkRetries: 2 });
    const attempts = recordAttempts(stripe);
    const created = await stripe.apps.secrets.create({ name: 'plain', payload: 'p', scope: ACCOUNT });
    assertMatchesSchema('create', created);
    expect(created.lastResponse.idempotencyKey).toMatch(/^stripe-node-retry-[0-9a-f-]{36}$/);
    expect(replayed(created)).toBeUndefined();
    expect(attempts.keys).toHaveLength(1);
    expect(attempts.statuses).toEqual([200]);
  });

  it('after two lost answers, the third attempt replays the first: one secret, the same id', async () => {
    const proxy = await lossyProxy(server.port, 2);
    try {
      const key = freshKey('retry_lost');
      const stripe = audit.client(server, key, { port: proxy.port, maxNetworkRetries: 2 });
      const attempts = recordAttempts(stripe);
      const created = await stripe.apps.secrets.create({ name: 'lost', payload: 'p', scope: ACCOUNT });
      assertMatchesSchema('create', created);
      expect(proxy.connections()).toBe(3);
      expect(attempts.keys).toHaveLength(3);
      expect(new Set(attempts.keys).size).toBe(1);
      expect(attempts.keys[0]).toMatch(/^stripe-node-retry-/);
      expect(replayed(created)).toBe('true');
      const direct = audit.client(server, key);
      const found = await direct.apps.secrets.find({ name: 'lost', scope: ACCOUNT });
      assertMatchesSchema('find', found);
      expect(found.id).toBe(created.id);
      expect(await listIds(direct)).toEqual([created.id]);
    } finally {
      await proxy.close();
    }
  });

  it('without retries left, the lost answer is a StripeConnectionError (yet the secret was stored)', async () => {
    const proxy = await lossyProxy(server.port, 2);
    try {
      const key = freshKey('retry_none');
      const stripe = audit.client(server, key, { port: proxy.port, maxNetworkRetries: 0 });
      await expect(stripe.apps.secrets.create({ name: 'lost', payload: 'p', scope: ACCOUNT })).rejects.toBeInstanceOf(
        Stripe.errors.StripeConnectionError,
      );
      const found = await audit.client(server, key).apps.secrets.find({ name: 'lost', scope: ACCOUNT });
      assertMatchesSchema('find', found);
    } finally {
      await proxy.close();
    }
  });

  it('concurrent duplicates with one key all get the one secret (409s are retried)', async () => {
    const key = freshKey('retry_concurrent');
    const stripe = audit.client(server, key, { maxNetworkRetries: 3 });
    const attempts = recordAttempts(stripe);
    const params = { name: 'raced', payload: 'p', scope: ACCOUNT };
    const results: Secret[] = await Promise.all(
      Array.from({ length: 6 }, () => stripe.apps.secrets.create(params, { idempotencyKey: 'idem-race' })),
    );
    for (const result of results) assertMatchesSchema('create', result);
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    const fresh = results.filter((r) => replayed(r as Stripe.Response<Secret>) === undefined);
    expect(fresh).toHaveLength(1);
    // Whatever raced got a 409 and a retry, or a replay: never anything else.
    for (const status of attempts.statuses) expect([200, 409]).toContain(status);
    expect(await listIds(audit.client(server, key))).toEqual([results[0]?.id]);
  });
});
