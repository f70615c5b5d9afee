/**
 * Limits: body size, parameter count and depth, slow clients (headers, bodies, idle connections),
 * Stripe-style rate limits, and Stripe-Should-Retry on every error. Each limit answers with a clear,
 * Stripe-shaped error.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReply } from '../support/raw-http.js';
import { form, raw, removeDir, type ServerHandle, startServer } from '../support/server-process.js';

let server: ServerHandle;
beforeAll(async () => {
  server = await startServer({
    env: {
      SECRET_STORE_HEADERS_TIMEOUT_MS: '1000',
      SECRET_STORE_REQUEST_TIMEOUT_MS: '1500',
      SECRET_STORE_KEEP_ALIVE_TIMEOUT_MS: '1000',
    },
  });
});
afterAll(async () => {
  await server.stop();
  removeDir(server.dataDir);
});

const errorOf = (json: unknown) => (json as { error: { type: string; code: string; param?: string } }).error;

/** Opens a connection, writes `bytes`, and collects whatever comes back until the server closes it. */
function slowClient(bytes: string): Promise<{ text: string; closedAfterMs: number; socket: Socket }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(server.port, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString();
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve({ text, closedAfterMs: Date.now() - started, socket }));
    socket.write(bytes);
  });
}

describe('request limits', () => {
  it('refuses a body over the limit with 413 and keeps serving', async () => {
    const body = `name=big&scope[type]=account&payload=${'x'.repeat(300 * 1024)}`;
    const response = await raw(server, 'POST', '/v1/apps/secrets', { headers: form(), body });
    expect(response.status).toBe(413);
    expect(errorOf(response.json)).toMatchObject({ type: 'invalid_request_error' });
    expect(errorOf(response.json).code).toBeUndefined();
    expect(response.headers.get('stripe-should-retry')).toBe('false');
    const after = await raw(server, 'GET', '/v1/apps/secrets?scope[type]=account', { headers: form() });
    expect(after.status).toBe(200);
  });

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
    const { text, closedAfterMs } = await slowClient('GET /v1/apps/secrets HTTP/1.1\r\nHost: x\r\n');
    expect(closedAfterMs).toBeLessThan(5000);
    const reply = parseReply(Buffer.from(text));
    expect(reply.status).toBe(408);
    expect(JSON.parse(reply.body)).toEqual({
      error: {
        message: 'The request was not received in time; the connection is closed.',
        type: 'invalid_request_error',
      },
    });
  });

  it('closes a connection whose body never finishes', async () => {
    const { text, closedAfterMs } = await slowClient(
      'POST /v1/apps/secrets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk_test_slow\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nname=slow',
    );
    expect(closedAfterMs).toBeLessThan(5000);
    if (text) expect(parseReply(Buffer.from(text)).status).toBe(408);
    const stored = await server.stripe('sk_test_slow').apps.secrets.list({ scope: { type: 'account' } });
    expect(stored.data).toEqual([]);
  });

  it('closes idle kept-alive connections', async () => {
    const { closedAfterMs, text } = await slowClient(
      'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', // one request, then the connection sits idle
    );
    expect(parseReply(Buffer.from(text)).status).toBe(200);
    expect(closedAfterMs).toBeLessThan(5000);
  });

  it('keeps answering other clients while many slow ones hang', async () => {
    const sockets = Array.from({ length: 100 }, () => {
      const s = connect(server.port, '127.0.0.1');
      s.on('error', () => {});
      s.write('GET /v1/apps/secrets HTTP/1.1\r\nHost: x\r\n');
      return s;
    });
    try {
      const started = Date.now();
      const response = await raw(server, 'GET', '/v1/apps/secrets?scope[type]=account', { headers: form() });
      expect(response.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      for (const s of sockets) s.destroy();
    }
  });
});

describe('rate limits and Stripe-Should-Retry', () => {
  it('answers 429 rate_limit past the per-account rate, which stripe-node raises as StripeRateLimitError', async () => {
    const limited = await startServer({ args: ['--rate-limit', '--rate-limit-test', '5'] });
    try {
      const stripe = limited.stripe('sk_test_rl1');
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, () => stripe.apps.secrets.list({ scope: { type: 'account' } })),
      );
      const refused = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      expect(results.filter((r) => r.status === 'fulfilled').length).toBeLessThanOrEqual(6);
      expect(refused.length).toBeGreaterThanOrEqual(2);
      expect(refused[0]?.reason).toMatchObject({ type: 'StripeRateLimitError', statusCode: 429, code: 'rate_limit' });
      // Another account has its own budget; the first one's refills within a second.
      await expect(
        limited.stripe('sk_test_rl2').apps.secrets.list({ scope: { type: 'account' } }),
      ).resolves.toBeDefined();
      await new Promise((r) => setTimeout(r, 1100));
      await expect(stripe.apps.secrets.list({ scope: { type: 'account' } })).resolves.toBeDefined();
      const response = await raw(limited, 'GET', '/v1/apps/secrets?scope[type]=account', {
        headers: form('sk_test_rl3'),
      });
      expect(response.status).toBe(200);
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
