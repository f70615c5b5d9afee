/**
 * Limits: parameter count and depth, slow clients (headers, bodies, idle connections), Stripe-style
 * rate limits, and Stripe-Should-Retry on every error. Each limit answers with a clear, Stripe-shaped
 * error. (The body size limit is raw-http-params.test.ts's.)
 *
 * The slow-client limits are Node's own timers, which run on the wall clock: these tests wait for
 * the server to close the connection, never for a fixed time. The rate limiter runs on the server's
 * clock, which the tests move.
 */
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { form, raw, removeDir, serverForFile, startInProcess } from '../support/in-process-server.js';
import { parseReply } from '../support/raw-http.js';

const server = serverForFile({
  config: { headersTimeoutMs: 1000, requestTimeoutMs: 1500, keepAliveTimeoutMs: 1000 },
});

const errorOf = (json: unknown) => (json as { error: { type: string; code: string; param?: string } }).error;

/** Opens a connection, writes `bytes`, and collects whatever comes back until the server closes it. */
function slowClient(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString();
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(text));
    socket.write(bytes);
  });
}

describe('request limits', () => {
  it('refuses too many parameters and too deep nesting with 400', async () => {
    const many = Array.from({ length: 300 }, (_, i) => `expand[]=f${i}`).join('&');
    const tooMany = await raw(server, 'GET', `/v1/apps/secrets?scope[type]=account&${many}`, { headers: form() });
    expect(tooMany.status).toBe(400);
    expect(errorOf(tooMany.json)).toMatchObject({
      message: 'Too many parameters: at most 256 are accepted per request.',
    });
    expect(errorOf(tooMany.json).code).toBeUndefined();
    const deep = await raw(server, 'GET', '/v1/apps/secrets?scope[type]=account&scope[a][b][c][d][e]=1', {
      headers: form(),
    });
    expect(deep.status).toBe(400);
    expect(errorOf(deep.json)).toMatchObject({ param: 'scope[a][b][c][d][e]' });
    expect(errorOf(deep.json).code).toBeUndefined();
  });
});

describe('slow clients', () => {
  it('closes a connection whose headers never finish, with a 408 JSON error', async () => {
    const text = await slowClient(server.port, 'GET /v1/apps/secrets HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const reply = parseReply(Buffer.from(text));
    expect(reply.status).toBe(408);
    expect(JSON.parse(reply.body)).toEqual({
      error: {
        message: 'The request was not received in time; the connection is closed.',
        type: 'invalid_request_error',
      },
    });
  });

  it('closes a connection whose body never finishes, storing nothing', async () => {
    const text = await slowClient(
      server.port,
      'POST /v1/apps/secrets HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sk_test_slow\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nname=slow',
    );
    if (text) expect(parseReply(Buffer.from(text)).status).toBe(408);
    const stored = await server.stripe('sk_test_slow').apps.secrets.list({ scope: { type: 'account' } });
    expect(stored.data).toEqual([]);
  });

  it('closes idle kept-alive connections', async () => {
    // One request, then the connection sits idle until the server closes it.
    const text = await slowClient(server.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(parseReply(Buffer.from(text)).status).toBe(200);
  });

  it('keeps answering other clients while many slow ones hang', async () => {
    // Timeouts far beyond the test's: the slow connections are all still open when the answer comes.
    const handle = await startInProcess({ config: { headersTimeoutMs: 600_000, requestTimeoutMs: 600_000 } });
    const closed: Socket[] = [];
    const sockets = Array.from({ length: 100 }, () => {
      const s = connect(handle.port, '127.0.0.1');
      s.on('error', () => {});
      s.on('close', () => closed.push(s));
      s.write('GET /v1/apps/secrets HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      return s;
    });
    try {
      const response = await raw(handle, 'GET', '/v1/apps/secrets?scope[type]=account', { headers: form() });
      expect(response.status).toBe(200);
      expect(closed).toEqual([]);
    } finally {
      for (const s of sockets) s.destroy();
      await handle.stop();
      removeDir(handle.dataDir);
    }
  });
});

describe('rate limits and Stripe-Should-Retry', () => {
  it('answers 429 rate_limit past the per-account rate, which stripe-node raises as StripeRateLimitError', async () => {
    const limited = await startInProcess({ config: { rateLimit: true, rateLimitTest: 5 } });
    try {
      // No retries: each call is one request, and the server's clock stands still until moved.
      const stripe = limited.stripe('sk_test_rl1', { maxNetworkRetries: 0 });
      const list = () => stripe.apps.secrets.list({ scope: { type: 'account' } });
      const results = await Promise.allSettled(Array.from({ length: 8 }, list));
      const refused = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
      expect(refused).toHaveLength(3);
      for (const { reason } of refused) {
        expect(reason).toMatchObject({ type: 'StripeRateLimitError', statusCode: 429, code: 'rate_limit' });
      }
      // Another account has its own budget.
      await expect(
        limited.stripe('sk_test_rl2', { maxNetworkRetries: 0 }).apps.secrets.list({ scope: { type: 'account' } }),
      ).resolves.toBeDefined();
      // A fifth of a second refills one request, a whole second the burst of five, and no more.
      limited.clock.advanceMs(200);
      await expect(list()).resolves.toBeDefined();
      await expect(list()).rejects.toMatchObject({ statusCode: 429 });
      limited.clock.advance(10);
      const refilled = await Promise.allSettled(Array.from({ length: 6 }, list));
      expect(refilled.map((r) => r.status).sort()).toEqual([...Array(5).fill('fulfilled'), 'rejected']);
    } finally {
      await limited.stop();
      removeDir(limited.dataDir);
    }
  });

  it('says on every error whether a retry can help', async () => {
    const cases: Array<[string, string, Record<string, string>, string | undefined, string]> = [
      ['GET', '/v1/apps/secrets/find?name=none&scope[type]=account', form(), undefined, 'false'],
      ['GET', '/v1/apps/secrets?scope[type]=team', form(), undefined, 'false'],
      ['GET', '/v1/apps/secrets?scope[type]=account', {}, undefined, 'false'],
      ['GET', '/v1/nothing', form(), undefined, 'false'],
    ];
    for (const [method, path, headers, body, expected] of cases) {
      const response = await raw(server, method, path, { headers, body });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.headers.get('stripe-should-retry'), `${method} ${path}`).toBe(expected);
    }
    const ok = await raw(server, 'GET', '/v1/apps/secrets?scope[type]=account', { headers: form() });
    expect(ok.headers.get('stripe-should-retry')).toBeNull();
  });
});
