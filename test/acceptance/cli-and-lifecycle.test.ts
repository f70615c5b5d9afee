/**
 * `serve` and `keys`. The program runs in this process (commander with streams the test reads), and
 * so does the server, except where the process is the subject: the startup line, the exit on
 * SIGTERM and SIGINT, and the exit code of a server that cannot boot.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { createKey, raw, removeDir, startInProcess, tempDir } from '../support/in-process-server.js';
import { runCli, startServer } from '../support/server-process.js';

const dirs: string[] = [];
const newDir = () => {
  const dir = tempDir();
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) removeDir(dir);
});

describe('serve', () => {
  it('logs one line with the address and the mode, and stops cleanly on SIGTERM and SIGINT', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const server = await startServer({ dataDir: newDir() });
      const line =
        server
          .output()
          .split('\n')
          .find((l) => l.includes('listening on')) ?? '';
      expect(line).toContain(`http://127.0.0.1:${server.port}`);
      expect(line).toContain('emulator mode');
      expect(await server.stop(signal)).toBe(0);
    }
  });

  it('says when emulator mode is off, and then accepts registered keys only', async () => {
    const dataDir = newDir();
    const key = await createKey(dataDir, ['--mode', 'test']);
    const server = await startServer({ dataDir, args: ['--no-emulator'] });
    try {
      // The startup line is the process's; the server's answers are checked in-process below too.
      expect(server.output()).toContain('registered-keys mode');
      await expect(server.stripe('sk_test_123').apps.secrets.list({ scope: { type: 'account' } })).rejects.toThrow(
        /Invalid API Key/,
      );
      const list = await server.stripe(key).apps.secrets.list({ scope: { type: 'account' } });
      expect(list.data).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('refuses emulator mode on a non-loopback address', async () => {
    const result = await cli(['serve', '--host', '0.0.0.0', '--emulator', '--data-dir', newDir()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/emulator mode .* only allowed on a loopback address/);
  });

  it('rejects an invalid port with a clear message', async () => {
    const result = await cli(['serve', '--port', 'http', '--data-dir', newDir()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('port');
    expect(result.stderr).not.toContain('    at ');
  });

  it('keeps secrets across a restart, generating the master key file once with mode 0600', async () => {
    const dataDir = newDir();
    const first = await startInProcess({ dataDir, engine: 'sqlite' });
    expect(first.output()).toContain('generated a new master key');
    await first.stripe().apps.secrets.create({ name: 'kept', payload: 'across restarts', scope: { type: 'account' } });
    await first.stop();
    expect(statSync(join(dataDir, 'master.key')).mode & 0o777).toBe(0o600);
    const second = await startInProcess({ dataDir, engine: 'sqlite' });
    try {
      expect(second.output()).not.toContain('generated a new master key');
      const found = await second
        .stripe()
        .apps.secrets.find({ name: 'kept', scope: { type: 'account' }, expand: ['payload'] });
      expect(found.payload).toBe('across restarts');
    } finally {
      await second.stop();
    }
  });

  it('fails at boot, with a clear message, when started with the wrong master key', async () => {
    const dataDir = newDir();
    const server = await startInProcess({ dataDir, engine: 'sqlite' });
    await server.stop();
    const wrong = Buffer.alloc(32, 7).toString('base64');
    const result = await runCli(['serve', '--data-dir', dataDir, '--port', '0'], { SECRET_STORE_MASTER_KEY: wrong });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('master key does not match');
  });

  it('stores no payload in clear in the database file', async () => {
    const dataDir = newDir();
    const server = await startInProcess({ dataDir, engine: 'sqlite' });
    const payloads = ['needle-payload-0123456789', 'ünïcödé-needle-✓'];
    for (const [i, payload] of payloads.entries()) {
      await server
        .stripe()
        .apps.secrets.create(
          { name: `n${i}`, payload, scope: { type: 'account' }, expand: ['payload'] },
          { idempotencyKey: `scan-${i}` },
        );
    }
    await server.stop();
    const bytes = Buffer.concat(
      ['secret-store.db', 'secret-store.db-wal'].flatMap((f) => {
        try {
          return [readFileSync(join(dataDir, f))];
        } catch {
          return [];
        }
      }),
    );
    expect(bytes.length).toBeGreaterThan(0);
    for (const payload of payloads) expect(bytes.includes(Buffer.from(payload))).toBe(false);
  });
});

describe('keys', () => {
  it('creates a key shown once on the last line, lists it masked, and revokes it on the next request', async () => {
    const dataDir = newDir();
    const created = await cli(['keys', 'create', '--mode', 'live', '--account', 'acct_Team1', '--data-dir', dataDir]);
    expect(created.code).toBe(0);
    const key = created.stdout.trim().split('\n').at(-1) as string;
    expect(key).toMatch(/^sk_live_[0-9A-Za-z]{56}$/);

    const listed = await cli(['keys', 'list', '--json', '--data-dir', dataDir]);
    const rows = JSON.parse(listed.stdout) as Array<{
      id: string;
      mode: string;
      platform: string;
      key: string;
      status: string;
    }>;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ mode: 'live', platform: 'acct_Team1', status: 'active' });
    expect(listed.stdout).not.toContain(key);
    expect(rows[0]?.key.endsWith(key.slice(-4))).toBe(true);
    const table = await cli(['keys', 'list', '--data-dir', dataDir]);
    expect(table.stdout).toContain(rows[0]?.id);
    expect(table.stdout).not.toContain(key);
    const database = readFileSync(join(dataDir, 'secret-store.db'));
    expect(database.includes(Buffer.from(key))).toBe(false);

    const server = await startInProcess({ dataDir, engine: 'sqlite' });
    try {
      const stripe = server.stripe(key);
      const secret = await stripe.apps.secrets.create({ name: 'live-one', payload: 'p', scope: { type: 'account' } });
      expect(secret.livemode).toBe(true);
      const revoked = await cli(['keys', 'revoke', rows[0]?.id ?? '', '--data-dir', dataDir]);
      expect(revoked.code).toBe(0);
      await expect(stripe.apps.secrets.find({ name: 'live-one', scope: { type: 'account' } })).rejects.toMatchObject({
        type: 'StripeAuthenticationError',
        statusCode: 401,
      });
      const again = await cli(['keys', 'revoke', rows[0]?.id ?? '', '--data-dir', dataDir]);
      expect(again.stdout).toContain('already revoked');
    } finally {
      await server.stop();
    }
  });

  it('fails with a message and exit 1 on bad input', async () => {
    const dataDir = newDir();
    const badMode = await cli(['keys', 'create', '--mode', 'prod', '--data-dir', dataDir]);
    expect(badMode.code).not.toBe(0);
    expect(badMode.stderr).toContain('--mode');
    const badAccount = await cli(['keys', 'create', '--mode', 'test', '--account', 'nope', '--data-dir', dataDir]);
    expect(badAccount.code).toBe(1);
    expect(badAccount.stderr).toContain('--account');
    const missing = await cli(['keys', 'revoke', 'key_missing', '--data-dir', dataDir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no API key with id 'key_missing'");
  });

  it('reads the data dir from SECRET_STORE_DATA_DIR', async () => {
    const dataDir = newDir();
    const created = await cli(['keys', 'create', '--mode', 'test'], { SECRET_STORE_DATA_DIR: dataDir });
    expect(created.code).toBe(0);
    const listed = await cli(['keys', 'list', '--json', '--data-dir', dataDir]);
    expect(JSON.parse(listed.stdout)).toHaveLength(1);
  });
});

describe('raw requests to a stopped-and-restarted server', () => {
  it('answers with JSON errors, never HTML', async () => {
    const server = await startInProcess({ dataDir: newDir(), engine: 'sqlite' });
    try {
      const response = await raw(server, 'GET', '/');
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toBe('application/json');
    } finally {
      await server.stop();
    }
  });
});
