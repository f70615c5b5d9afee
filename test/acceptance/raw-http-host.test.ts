/**
 * Emulator mode answers loopback host names only (DNS rebinding): a hostile domain pointed at
 * 127.0.0.1 gets a 403 JSON error, Stripe-shaped, with no invented error code.
 */
import { Agent } from 'node:http';
import Stripe from 'stripe';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { serverForFile, startInProcess } from '../support/in-process-server.js';
import { type RawReply, sendRaw } from '../support/raw-http.js';
import { removeDir, tempDir } from '../support/server-process.js';

const emulator = serverForFile();
const allowing = serverForFile({ config: { allowHost: ['secrets.test'] } });

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) removeDir(dir);
});

/** A GET with exactly these header lines (no Host unless given). */
function get(port: number, path: string, lines: readonly string[], version = '1.1'): Promise<RawReply> {
  const head = [`GET ${path} HTTP/${version}`, 'Authorization: Bearer sk_test_123', 'Connection: close', ...lines];
  return sendRaw(port, Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'));
}

const LIST = '/v1/apps/secrets?scope[type]=account';

function expectRefused(reply: RawReply, host: string): void {
  expect(reply.status, `${host}: ${reply.body}`).toBe(403);
  expect(reply.headers['content-type']).toBe('application/json');
  expect(reply.headers['request-id']).toMatch(/^req_/);
  const { error } = JSON.parse(reply.body) as { error: Record<string, unknown> };
  // Stripe has no error code for this: there is none, and so no doc_url either.
  expect(Object.keys(error).sort()).toEqual(['message', 'type']);
  expect(error.type).toBe('invalid_request_error');
  expect(error.message).toContain('emulator mode');
  expect(error.message).toContain('--allow-host');
}

describe('Host names in emulator mode', () => {
  it('refuses hosts that are not loopback, before routing, on the API, the dashboard and the health checks', async () => {
    const hostile = [
      'evil.example',
      'evil.example:12111',
      '127.0.0.1.nip.io',
      'localhost.evil.example',
      '10.0.0.1',
      '[::2]:80',
      '0.0.0.0',
    ];
    for (const host of hostile) {
      for (const path of [LIST, '/v1/no/such/route', '/dashboard/', '/healthz']) {
        expectRefused(await get(emulator.port, path, [`Host: ${host}`]), host);
      }
    }
  });

  it('answers loopback names and addresses, with or without a port, and requests without Host', async () => {
    const loopback = [
      `127.0.0.1:${emulator.port}`,
      '127.9.9.9',
      `localhost:${emulator.port}`,
      'LOCALHOST.',
      'app.localhost',
      `[::1]:${emulator.port}`,
      '[0:0:0:0:0:0:0:1]',
    ];
    for (const host of loopback) {
      const reply = await get(emulator.port, LIST, [`Host: ${host}`]);
      expect(reply.status, `${host}: ${reply.body}`).toBe(200);
    }
    expect((await get(emulator.port, LIST, [], '1.0')).status).toBe(200);
    expect((await get(emulator.port, '/healthz', ['Host: localhost'])).status).toBe(200);
  });

  it('stops stripe-node on a rebound name with StripePermissionError', async () => {
    // The SDK's requests go to 127.0.0.1 while naming evil.example: what a rebinding page does.
    const rebound = new Agent({
      lookup: (_name, options, done) => {
        const answer = done as (error: null, address: unknown, family?: number) => void;
        if ((options as { all?: boolean }).all) answer(null, [{ address: '127.0.0.1', family: 4 }]);
        else answer(null, '127.0.0.1', 4);
      },
    });
    const stripe = new Stripe('sk_test_123', {
      host: 'evil.example',
      port: emulator.port,
      protocol: 'http',
      httpAgent: rebound,
      maxNetworkRetries: 0,
    });
    const error = await stripe.apps.secrets.list({ scope: { type: 'account' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripePermissionError);
    expect((error as Stripe.errors.StripeError).code).toBeUndefined();
    rebound.destroy();
  });

  it('answers a name given with --allow-host (flag or SECRET_STORE_ALLOW_HOST), and no other', async () => {
    expect((await get(allowing.port, LIST, ['Host: secrets.test'])).status).toBe(200);
    expect((await get(allowing.port, LIST, [`Host: SECRETS.TEST:${allowing.port}`])).status).toBe(200);
    expectRefused(await get(allowing.port, LIST, ['Host: other.test']), 'other.test');

    const fromEnv = await startInProcess({ env: { SECRET_STORE_ALLOW_HOST: 'a.test, b.test' } });
    dirs.push(fromEnv.dataDir);
    try {
      expect((await get(fromEnv.port, LIST, ['Host: b.test'])).status).toBe(200);
      expectRefused(await get(fromEnv.port, LIST, ['Host: c.test']), 'c.test');
    } finally {
      await fromEnv.stop();
    }
  });

  it('refuses an --allow-host that is not a host name at start-up, naming the flag and variable', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const result = await cli(['serve', '--port', '0', '--data-dir', dataDir, '--allow-host', 'evil.example/path']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--allow-host or SECRET_STORE_ALLOW_HOST');
  });

  it('answers any Host with registered keys only, where there is no public key to abuse', async () => {
    const registered = await startInProcess({ config: { emulator: false } });
    dirs.push(registered.dataDir);
    try {
      const reply = await get(registered.port, LIST, ['Host: secrets.internal.example']);
      // The test key is not registered: authentication, not the Host, refuses it.
      expect(reply.status).toBe(401);
    } finally {
      await registered.stop();
    }
  });
});
