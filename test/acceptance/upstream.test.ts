/**
 * `--upstream URL` (README, "Testing your app"): one base URL for all of Stripe. End to end through
 * stripe-node with stripe-stateful-mock as the upstream (customers, Connect, an upstream 4xx,
 * idempotency), the Secret Store still answered locally, an unreachable upstream as a 502, and
 * on raw sockets: requests and answers forwarded unchanged and streamed both ways.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type RequestListener,
  type Server,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { createExpressApp } from 'stripe-stateful-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSecretStore, type TestSecretStore } from '../../src/testing/index.js';
import { expectStripeError } from '../support/sdk.js';
import { freePort } from '../support/server-process.js';

const ACCOUNT = { type: 'account' } as const;

/** An HTTP server on a free loopback port; `seen` lists every request it got. */
async function listen(handler: RequestListener): Promise<{ url: string; seen: string[]; server: Server }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

const closeServer = (server: Server | undefined) =>
  new Promise<void>((resolve) => {
    if (!server) return resolve();
    server.closeAllConnections();
    server.close(() => resolve());
  });

describe('with stripe-stateful-mock as the upstream, through stripe-node', () => {
  let mock: Awaited<ReturnType<typeof listen>>;
  let store: TestSecretStore;
  let stripe: Stripe;

  beforeAll(async () => {
    mock = await listen(createExpressApp());
    store = await startSecretStore({ upstream: mock.url });
    stripe = new Stripe('sk_test_123', { ...store.stripeOptions, maxNetworkRetries: 0 });
  });
  afterAll(async () => {
    await store?.close();
    await closeServer(mock?.server);
  });

  it('creates and retrieves a customer', async () => {
    const created = await stripe.customers.create({ email: 'ada@example.com', description: 'Ada' });
    expect(created).toMatchObject({ object: 'customer', email: 'ada@example.com', description: 'Ada' });
    expect(created.id).toMatch(/^cus_/);
    const retrieved = await stripe.customers.retrieve(created.id);
    expect(retrieved).toMatchObject({ id: created.id, email: 'ada@example.com' });
    expect(mock.seen).toContain(`GET /v1/customers/${created.id}`);
  });

  /** The error stripe-node raised for an upstream's error answer. */
  async function upstreamError(call: Promise<unknown>): Promise<Stripe.errors.StripeError> {
    const caught = await call.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(caught).toBeInstanceOf(Stripe.errors.StripeError);
    return caught as Stripe.errors.StripeError;
  }

  it('makes Connect calls on the account named by stripeAccount', async () => {
    const account = await stripe.accounts.create({ type: 'custom', country: 'US' });
    const customer = await stripe.customers.create({ email: 'connected@example.com' }, { stripeAccount: account.id });
    const retrieved = await stripe.customers.retrieve(customer.id, {}, { stripeAccount: account.id });
    expect(retrieved).toMatchObject({ id: customer.id, email: 'connected@example.com' });
    // The platform does not have that customer: the header reached the upstream.
    const err = await upstreamError(stripe.customers.retrieve(customer.id));
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err).toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
      message: `No such customer: ${customer.id}`,
    });
  });

  it('passes an upstream 4xx through as the upstream sent it', async () => {
    const direct = await fetch(`${mock.url}/v1/customers/cus_missing`, {
      headers: { Authorization: 'Bearer sk_test_123' },
    });
    const forwarded = await fetch(`${store.url}/v1/customers/cus_missing`, {
      headers: { Authorization: 'Bearer sk_test_123' },
    });
    expect(forwarded.status).toBe(404);
    const body = await forwarded.json();
    expect(body).toEqual(await direct.json());
    expect(body).toMatchObject({ error: { code: 'resource_missing', message: 'No such customer: cus_missing' } });
    const err = await upstreamError(stripe.customers.retrieve('cus_missing'));
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err).toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
      message: 'No such customer: cus_missing',
      doc_url: 'https://stripe.com/docs/error-codes/resource-missing',
    });
  });

  it('passes Idempotency-Key on: the upstream replays the first answer', async () => {
    const first = await stripe.customers.create({ email: 'once@example.com' }, { idempotencyKey: 'customer-once' });
    const again = await stripe.customers.create({ email: 'once@example.com' }, { idempotencyKey: 'customer-once' });
    expect(again.id).toBe(first.id);
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true');
  });

  it('still answers the Secret Store, the test tools and the health checks itself', async () => {
    const before = mock.seen.length;
    await stripe.apps.secrets.create({ name: 'api_key', payload: 's3cr3t', scope: ACCOUNT });
    const found = await stripe.apps.secrets.find({ name: 'api_key', scope: ACCOUNT, expand: ['payload'] });
    expect(found.payload).toBe('s3cr3t');
    expect((await stripe.apps.secrets.list({ scope: ACCOUNT })).data).toHaveLength(1);
    await stripe.apps.secrets.deleteWhere({ name: 'api_key', scope: ACCOUNT });
    await stripe.rawRequest('POST', '/_secret_store/clock', { advance: 1 });
    expect((await fetch(`${store.url}/healthz`)).status).toBe(200);
    // Unknown Secret Store paths are this server's 404, not the upstream's.
    const unknown = await fetch(`${store.url}/v1/apps/secrets/nothing`, {
      headers: { Authorization: 'Bearer sk_test_123' },
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({
      error: { message: expect.stringContaining('Unrecognized request URL') },
    });
    expect(mock.seen.slice(before)).toEqual([]);
  });
});

describe('an upstream that cannot be reached', () => {
  let store: TestSecretStore;
  let upstream: string;
  beforeAll(async () => {
    upstream = `http://127.0.0.1:${await freePort()}`;
    store = await startSecretStore({ upstream });
  });
  afterAll(() => store?.close());

  it('answers a Stripe-shaped 502 api_error naming the upstream; secrets still work', async () => {
    const stripe = new Stripe('sk_test_123', { ...store.stripeOptions, maxNetworkRetries: 0 });
    const err = await expectStripeError(stripe.customers.create({ email: 'x@example.com' }), {
      type: 'StripeAPIError',
      statusCode: 502,
      rawType: 'api_error',
      message: `This secret-store server forwards what it does not answer itself to ${upstream}, which could not be reached (ECONNREFUSED).`,
    });
    expect(err.code).toBeUndefined();
    expect(err.headers?.['stripe-should-retry']).toBe('false');
    await stripe.apps.secrets.create({ name: 'still', payload: 'here', scope: ACCOUNT });
    expect((await stripe.apps.secrets.find({ name: 'still', scope: ACCOUNT })).name).toBe('still');
  });
});

/** A raw HTTP exchange through the store, for what stripe-node cannot show. */
function exchange(
  url: string,
  options: { method: string; path: string; headers: string[] },
  send: (write: (chunk: Buffer | string) => void) => Promise<void>,
): Promise<{ response: IncomingMessage; chunks: Buffer[] }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: options.method,
        path: options.path,
        // Headers given as a list keep their order and repeats; Node then adds no Host of its own.
        headers: ['Host', target.host, ...options.headers],
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ response, chunks }));
        response.on('error', reject);
      },
    );
    req.on('error', reject);
    send((chunk) => req.write(chunk)).then(() => req.end(), reject);
  });
}

describe('forwarding, on raw sockets', () => {
  let echo: Awaited<ReturnType<typeof listen>>;
  let store: TestSecretStore;
  /** Resolvers the echo server waits on: the test says when each step may go on. */
  const gates = new Map<string, () => void>();
  const gate = (name: string) => new Promise<void>((resolve) => gates.set(name, resolve));
  const open = (name: string) => gates.get(name)?.();

  beforeAll(async () => {
    echo = await listen((req, res) => {
      if (req.url === '/base/v1/hang') {
        // Never answers; says when the request came and when it was given up.
        open('hang-arrived');
        res.on('close', () => open('hang-cancelled'));
        return;
      }
      if (req.url === '/base/v1/stream') {
        // Sends one part, then the next only once the client has said it got the first.
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.write('part one\n');
        void gate('client-got-part-one').then(() => res.end('part two\n'));
        return;
      }
      const hash = createHash('sha256');
      let length = 0;
      let first = true;
      req.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        length += chunk.length;
        if (first) open('upstream-got-first-chunk');
        first = false;
      });
      req.on('end', () => {
        const body = JSON.stringify({
          method: req.method,
          url: req.url,
          rawHeaders: req.rawHeaders,
          sha256: hash.digest('hex'),
          length,
        });
        res.writeHead(418, "I'm a teapot", [
          'Content-Type',
          'application/json',
          'Set-Cookie',
          'a=1',
          'Set-Cookie',
          'b=2',
          'X-Upstream',
          'echo',
          'Content-Length',
          String(Buffer.byteLength(body)),
        ]);
        res.end(body);
      });
    });
    store = await startSecretStore({ upstream: `${echo.url}/base/` });
  });
  afterAll(async () => {
    await store?.close();
    await closeServer(echo?.server);
  });

  it('sends method, path and query, headers and a body of any size unchanged, and returns the answer unchanged', async () => {
    const body = randomBytes(3 * 1024 * 1024);
    const { response, chunks } = await exchange(
      store.url,
      {
        method: 'PUT',
        path: '/v1/anything/x%2Fy?b=%20&a=1&a=2',
        headers: [
          'Authorization',
          'Bearer sk_test_123',
          'Stripe-Account',
          'acct_Up1',
          'Idempotency-Key',
          'idem-1',
          'X-Repeated',
          'one',
          'X-Repeated',
          'two',
          'Content-Type',
          'application/octet-stream',
          'Content-Length',
          String(body.length),
        ],
      },
      async (write) => write(body),
    );
    expect(response.statusCode).toBe(418);
    expect(response.statusMessage).toBe("I'm a teapot");
    expect(response.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(response.headers['x-upstream']).toBe('echo');
    const echoed = JSON.parse(Buffer.concat(chunks).toString()) as {
      method: string;
      url: string;
      rawHeaders: string[];
      sha256: string;
      length: number;
    };
    expect(echoed.method).toBe('PUT');
    // The upstream URL's own path comes first.
    expect(echoed.url).toBe('/base/v1/anything/x%2Fy?b=%20&a=1&a=2');
    expect(echoed.length).toBe(body.length);
    expect(echoed.sha256).toBe(createHash('sha256').update(body).digest('hex'));
    const pairs: string[][] = [];
    for (let i = 0; i < echoed.rawHeaders.length; i += 2) pairs.push(echoed.rawHeaders.slice(i, i + 2));
    expect(pairs).toEqual(
      expect.arrayContaining([
        ['Authorization', 'Bearer sk_test_123'],
        ['Stripe-Account', 'acct_Up1'],
        ['Idempotency-Key', 'idem-1'],
        ['X-Repeated', 'one'],
        ['X-Repeated', 'two'],
        ['Content-Type', 'application/octet-stream'],
        ['Content-Length', String(body.length)],
        ['Host', new URL(echo.url).host],
      ]),
    );
    expect(pairs.filter(([name]) => name?.toLowerCase() === 'host')).toHaveLength(1);
  });

  it('streams the request to the upstream as it arrives', async () => {
    const upstreamGotFirst = gate('upstream-got-first-chunk');
    const { response, chunks } = await exchange(
      store.url,
      { method: 'POST', path: '/v1/upload', headers: ['Authorization', 'Bearer sk_test_123'] },
      async (write) => {
        write('first chunk;');
        // The rest is sent only once the upstream has the first chunk: a server that waited for the
        // whole body before forwarding would wait forever here.
        await upstreamGotFirst;
        write('second chunk');
      },
    );
    expect(response.statusCode).toBe(418);
    expect(JSON.parse(Buffer.concat(chunks).toString())).toMatchObject({
      length: 'first chunk;second chunk'.length,
      sha256: createHash('sha256').update('first chunk;second chunk').digest('hex'),
    });
  });

  it('streams the answer to the client as it arrives', async () => {
    const target = new URL(store.url);
    const received = await new Promise<string[]>((resolve, reject) => {
      const parts: string[] = [];
      const req = httpRequest({ host: target.hostname, port: target.port, path: '/v1/stream' }, (response) => {
        response.setEncoding('utf8');
        response.on('data', (text: string) => {
          parts.push(text);
          // The upstream sends its second part only after this: an answer held back until it is
          // complete would never arrive.
          if (parts.length === 1) open('client-got-part-one');
        });
        response.on('end', () => resolve(parts));
        response.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    expect(received).toEqual(['part one\n', 'part two\n']);
  });

  it('gives the upstream request up when the client goes away first, and goes on serving', async () => {
    const arrived = gate('hang-arrived');
    const cancelled = gate('hang-cancelled');
    const target = new URL(store.url);
    const req = httpRequest({ host: target.hostname, port: target.port, path: '/v1/hang' });
    req.on('error', () => {});
    req.end();
    await arrived;
    // A reset, as from a client that crashed: a mere FIN could be a client that shut down its sending
    // side and waits for the answer, which the server allows (see server/api-listener.ts).
    req.socket?.resetAndDestroy();
    await cancelled;
    expect((await fetch(`${store.url}/healthz`)).status).toBe(200);
  });
});
