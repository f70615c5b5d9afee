/**
 * A lost database: requests get a Stripe-shaped 503 `api_error`, and the server recovers by itself
 * when PostgreSQL is back. Uses a throwaway cluster of its own (initdb in a temp dir, run as the
 * `postgres` user), so stopping it disturbs nothing else.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, raw, removeDir, type ServerHandle, startServer } from '../support/server-process.js';

const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql') : [];
const bin = versions.length ? join('/usr/lib/postgresql', versions.sort().at(-1) as string, 'bin') : '';
const canRun = bin !== '' && existsSync(join(bin, 'initdb')) && process.getuid?.() === 0;

const asPostgres = (args: string[]) =>
  execFileSync('runuser', ['-u', 'postgres', '--', ...args], { stdio: 'pipe', timeout: 60_000 }).toString();

describe.skipIf(!canRun)('losing the PostgreSQL connection', () => {
  let dir: string;
  let port: number;
  let server: ServerHandle;
  const pgCtl = (action: 'start' | 'stop') =>
    asPostgres([
      join(bin, 'pg_ctl'),
      '-D',
      join(dir, 'data'),
      '-w',
      '-l',
      join(dir, 'log'),
      ...(action === 'start'
        ? ['-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, 'start']
        : ['-m', 'fast', 'stop']),
    ]);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'secret-store-pg-'));
    chmodSync(dir, 0o777);
    port = await freePort();
    asPostgres([join(bin, 'initdb'), '-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres']);
    pgCtl('start');
    server = await startServer({
      databaseUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
      env: { SECRET_STORE_DB_CONNECT_TIMEOUT_MS: '1000' },
    });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    if (server) removeDir(server.dataDir);
    try {
      pgCtl('stop');
    } catch {
      // already stopped
    }
    removeDir(dir);
  });

  it('answers 503 api_error while the database is down and recovers when it is back', async () => {
    const stripe = server.stripe('sk_test_outage', { maxNetworkRetries: 0 });
    await stripe.apps.secrets.create({ name: 'before', payload: 'kept', scope: { type: 'account' } });

    pgCtl('stop');
    const down = await raw(server, 'GET', '/v1/apps/secrets/find?name=before&scope[type]=account', {
      headers: { Authorization: 'Bearer sk_test_outage' },
    });
    expect(down.status).toBe(503);
    expect(down.headers.get('stripe-should-retry')).toBe('true');
    // api_error without a code, as Stripe sends its server errors.
    expect(down.json).toEqual({
      error: {
        message: 'The secret store database is unavailable right now. Please retry shortly.',
        type: 'api_error',
      },
    });
    await expect(
      stripe.apps.secrets.create({ name: 'during', payload: 'x', scope: { type: 'account' } }),
    ).rejects.toMatchObject({ type: 'StripeAPIError', statusCode: 503 });

    pgCtl('start');
    let found: { payload?: string | null } | undefined;
    const deadline = Date.now() + 15_000;
    while (!found && Date.now() < deadline) {
      try {
        found = await stripe.apps.secrets.find({ name: 'before', scope: { type: 'account' }, expand: ['payload'] });
      } catch {
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    expect(found?.payload).toBe('kept');
    const created = await stripe.apps.secrets.create({ name: 'after', payload: 'y', scope: { type: 'account' } });
    expect(created.name).toBe('after');
    expect(server.process.exitCode).toBeNull();
  }, 60_000);
});
