/**
 * Operating the server: the secrets commands against it, backup and restore, request logs, metrics,
 * the audit log, and a graceful shutdown. The program and the server run in this process (the CLI
 * with streams the test reads); only the shutdown on SIGTERM spawns, since the process is its subject.
 */
import { copyFileSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli as runCli } from '../support/cli.js';
import {
  createKey,
  raw,
  removeDir,
  serverForFile,
  startInProcess,
  storeArgs,
  tempDir,
} from '../support/in-process-server.js';
import { freePort, type ServerHandle, startServer } from '../support/server-process.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) removeDir(dir);
});

describe('the secrets commands against a running server', () => {
  const server = serverForFile();
  const env = () => ({ SECRET_STORE_URL: server.url, STRIPE_API_KEY: 'sk_test_cli_ops' });

  it('sets, finds (revealing only when asked), lists across pages and deletes', async () => {
    const set = await runCli(['secrets', 'set', 'api-key', '--scope', 'account', '--payload', 'needle-cli-1'], env());
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('api-key');
    expect(set.stdout).not.toContain('needle-cli-1');

    // --expires-in counts from the command's own clock, the wall clock.
    const sentAfter = Math.floor(Date.now() / 1000);
    const piped = await runCli(
      ['secrets', 'set', 'token', '--scope', 'user:usr_cli', '--payload-stdin', '--expires-in', '7d', '--json'],
      env(),
      'from-stdin\n',
    );
    const answeredBefore = Math.ceil(Date.now() / 1000);
    expect(piped.code, piped.stderr).toBe(0);
    const created = JSON.parse(piped.stdout) as { expires_at: number; scope: unknown };
    expect(created.scope).toEqual({ type: 'user', user: 'usr_cli' });
    expect(created.expires_at).toBeGreaterThanOrEqual(sentAfter + 7 * 86_400);
    expect(created.expires_at).toBeLessThanOrEqual(answeredBefore + 7 * 86_400);

    const hidden = await runCli(['secrets', 'find', 'token', '--scope', 'user:usr_cli'], env());
    expect(hidden.code).toBe(0);
    expect(hidden.stdout).toContain('token');
    expect(hidden.stdout).not.toContain('from-stdin');
    const revealed = await runCli(['secrets', 'find', 'token', '--scope', 'user:usr_cli', '--reveal', '--json'], env());
    expect(JSON.parse(revealed.stdout)).toMatchObject({ name: 'token', payload: 'from-stdin' });

    for (let i = 0; i < 9; i++) {
      const r = await runCli(
        ['secrets', 'set', `n${i}`, '--scope', 'account', '--payload', `table-payload-${i}`, '--url', server.url],
        {
          STRIPE_API_KEY: 'sk_test_cli_ops',
        },
      );
      expect(r.code, r.stderr).toBe(0);
    }
    const listed = await runCli(['secrets', 'list', '--scope', 'account', '--json'], env());
    const names = (JSON.parse(listed.stdout) as Array<{ name: string; payload?: string }>).map((s) => s.name);
    expect(names).toHaveLength(10);
    expect(new Set(names).size).toBe(10);
    const table = await runCli(['secrets', 'list', '--scope', 'account', '--limit', '3'], env());
    expect(table.stdout.trim().split('\n')).toHaveLength(4);
    expect(table.stdout).not.toContain('table-payload-');

    const deleted = await runCli(['secrets', 'delete', 'api-key', '--scope', 'account'], env());
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toContain('Deleted api-key');
  });

  it("exits non-zero with the server's message on failure", async () => {
    const missing = await runCli(['secrets', 'find', 'nope', '--scope', 'account'], env());
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("No such secret: 'nope'");
    expect(missing.stderr).toMatch(/resource_missing, request req_/);

    for (let i = 0; i < 10; i++)
      await runCli(['secrets', 'set', `c${i}`, '--scope', 'user:usr_full', '--payload', 'x'], env());
    const full = await runCli(['secrets', 'set', 'c10', '--scope', 'user:usr_full', '--payload', 'x'], env());
    expect(full.code).toBe(1);
    expect(full.stderr).toContain('at most 10 secrets');

    const noKey = await runCli(['secrets', 'list', '--scope', 'account'], {
      SECRET_STORE_URL: server.url,
      STRIPE_API_KEY: '',
    });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain('no API key');
    const badScope = await runCli(['secrets', 'list', '--scope', 'team'], env());
    expect(badScope.code).toBe(1);
    expect(badScope.stderr).toContain("--scope must be 'account' or 'user:<user id>'");
    const port = await freePort();
    const down = await runCli(['secrets', 'list', '--scope', 'account', '--url', `http://127.0.0.1:${port}`], env());
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('Could not reach the Secret Store');
  });

  it('answers /healthz and /readyz', async () => {
    const health = await raw(server, 'GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.json).toEqual({ status: 'ok' });
    const ready = await raw(server, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({ status: 'ready' });
  });

  it('has --help with an example on every command', async () => {
    for (const command of [
      [],
      ['serve'],
      ['keys', 'create'],
      ['secrets', 'set'],
      ['secrets', 'list'],
      ['export'],
      ['import'],
      ['audit'],
      ['rotate-key'],
    ]) {
      const help = await runCli([...command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/Examples?:\n(\s+\$ .*\n)*?\s+\$ .*npx secret-store /);
    }
  });
});

describe('backup and restore', () => {
  it('restores into an empty data dir with identical finds, and importing twice skips everything', async () => {
    const source = await startInProcess({ engine: 'sqlite' });
    dirs.push(source.dataDir);
    const stripe = source.stripe('sk_test_backup');
    const expiresAt = source.clock.now() + 3600;
    for (let i = 0; i < 5; i++) {
      await stripe.apps.secrets.create({
        name: `b${i}`,
        payload: `payload-${i}-ü`,
        scope: { type: 'user', user: `usr_${i % 2}` },
        ...(i === 0 ? { expires_at: expiresAt } : {}),
      });
    }
    await stripe.apps.secrets.create(
      { name: 'acct', payload: 'on-connected', scope: { type: 'account' } },
      { stripeAccount: 'acct_Backup1' },
    );
    const backup = join(tempDir(), 'backup.jsonl');
    dirs.push(join(backup, '..'));
    const exported = await runCli(['export', '--out', backup, ...storeArgs(source)]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toContain('Exported 6 secret(s)');
    expect(statSync(backup).mode & 0o777).toBe(0o600);
    expect(readFileSync(backup, 'utf8')).not.toContain('payload-1');

    const target = tempDir();
    dirs.push(target);
    copyFileSync(join(source.dataDir, 'master.key'), join(target, 'master.key'));
    const restored = await runCli(['import', backup, '--data-dir', target]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain('Imported 6 secret(s); skipped none');
    const again = await runCli(['import', backup, '--data-dir', target]);
    expect(again.stdout).toContain('Imported 0 secret(s); skipped 6 already present');

    const copy = await startInProcess({ dataDir: target, engine: 'sqlite' });
    try {
      const restoredStripe = copy.stripe('sk_test_backup');
      for (let i = 0; i < 5; i++) {
        const scope = { type: 'user' as const, user: `usr_${i % 2}` };
        const before = await stripe.apps.secrets.find({ name: `b${i}`, scope, expand: ['payload'] });
        const after = await restoredStripe.apps.secrets.find({ name: `b${i}`, scope, expand: ['payload'] });
        expect(after).toEqual(before);
      }
      const onAccount = await restoredStripe.apps.secrets.find(
        { name: 'acct', scope: { type: 'account' }, expand: ['payload'] },
        { stripeAccount: 'acct_Backup1' },
      );
      expect(onAccount.payload).toBe('on-connected');
    } finally {
      await copy.stop();
      await source.stop();
    }

    const otherKey = tempDir();
    dirs.push(otherKey);
    const wrong = await runCli(['import', backup, '--data-dir', otherKey]);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain('6 not decryptable with this keyring');
  });
});

describe('logs, metrics and the audit log', () => {
  const server = serverForFile({ engine: 'sqlite', config: { metricsPort: 0 } });
  let key: string;
  beforeAll(async () => {
    key = await createKey(server, ['--mode', 'test', '--account', 'acct_Ops1']);
  });

  const metricsUrl = () => server.metricsUrl as string;

  it('writes JSON request lines with request id, operation, status and latency, and never a payload or key', async () => {
    const stripe = server.stripe(key);
    const created = await stripe.apps.secrets.create(
      { name: 'logged', payload: 'PAYLOAD-NEEDLE-42', scope: { type: 'account' }, expand: ['payload'] },
      { idempotencyKey: 'log-idem-1' },
    );
    await stripe.apps.secrets.find({ name: 'logged', scope: { type: 'account' }, expand: ['payload'] });
    await raw(server, 'GET', '/v1/apps/secrets/find?name=x&scope[type]=account', {
      headers: { Authorization: 'Bearer sk_live_WRONGKEYNEEDLE0123456789abcdef' },
    });
    await raw(server, 'POST', '/v1/apps/secrets?payload=QUERY-PAYLOAD-NEEDLE', {
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'name=q&scope[type]=account',
    });
    // The request line is written as the answer goes out: in this process, before the client has it.
    const output = server.output();
    for (const secret of ['PAYLOAD-NEEDLE-42', 'QUERY-PAYLOAD-NEEDLE', key, 'WRONGKEYNEEDLE', key.slice(8, 40)]) {
      expect(output).not.toContain(secret);
    }
    const lines = output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const requestLines = lines.filter((l) => l.msg === 'request');
    const createLine = requestLines.find((l) => l.request_id === created.lastResponse.requestId);
    expect(createLine).toMatchObject({ operation: 'apps.secret.create', status: 200, method: 'POST' });
    expect(typeof createLine?.latency_ms).toBe('number');
    expect(requestLines.some((l) => l.status === 401 && l.code === 'api_key_invalid')).toBe(true);
  });

  it('serves Prometheus metrics that parse and count what happened', async () => {
    await server.sweep();
    const stripe = server.stripe(key);
    await stripe.apps.secrets.create(
      { name: 'm1', payload: 'p', scope: { type: 'user', user: 'usr_m' } },
      { idempotencyKey: 'metrics-1' },
    );
    await stripe.apps.secrets.create(
      { name: 'm1', payload: 'p', scope: { type: 'user', user: 'usr_m' } },
      { idempotencyKey: 'metrics-1' },
    );
    const response = await fetch(metricsUrl());
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const samples = new Map<string, number>();
    for (const line of (await response.text()).split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const match = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
      expect(match, `unparseable metrics line: ${line}`).not.toBeNull();
      samples.set(match?.[1] as string, Number(match?.[2]));
    }
    expect(
      samples.get('secret_store_requests_total{operation="apps.secret.create",status="200"}'),
    ).toBeGreaterThanOrEqual(3);
    expect(samples.get('secret_store_idempotent_replays_total')).toBeGreaterThanOrEqual(1);
    expect(samples.get('secret_store_secrets_stored{mode="test"}')).toBeGreaterThanOrEqual(2);
    expect(samples.get('secret_store_expiry_sweeps_total')).toBeGreaterThanOrEqual(1);
    expect(
      samples.get('secret_store_request_duration_seconds_count{operation="apps.secret.find"}'),
    ).toBeGreaterThanOrEqual(1);
    const ready = await fetch(metricsUrl().replace('/metrics', '/readyz'));
    expect(ready.status).toBe(200);
  });

  it('records every mutating call and payload read in the audit log, never a payload', async () => {
    const stripe = server.stripe(key);
    const scope = { type: 'user' as const, user: 'usr_audit' };
    await stripe.apps.secrets.create({ name: 'audited', payload: 'AUDIT-PAYLOAD', scope });
    await stripe.apps.secrets.find({ name: 'audited', scope });
    await stripe.apps.secrets.find({ name: 'audited', scope, expand: ['payload'] });
    await stripe.apps.secrets.list({ scope, expand: ['data.payload'] });
    await stripe.apps.secrets.deleteWhere({ name: 'audited', scope });
    await stripe.apps.secrets.deleteWhere({ name: 'audited', scope }).catch(() => undefined);
    const result = await runCli(['audit', '--name', 'audited', '--json', ...storeArgs(server)]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toContain('AUDIT-PAYLOAD');
    const entries = (JSON.parse(result.stdout) as Array<Record<string, unknown>>).reverse();
    expect(entries.map((e) => [e.operation, e.outcome])).toEqual([
      ['apps.secret.create', 'ok'],
      ['apps.secret.find', 'ok'],
      ['apps.secret.delete', 'ok'],
      ['apps.secret.delete', 'resource_missing'],
    ]);
    expect(entries[0]).toMatchObject({
      platform: 'acct_Ops1',
      account: 'acct_Ops1',
      livemode: false,
      scopeType: 'user',
      scopeUser: 'usr_audit',
      status: 200,
    });
    expect(entries[0]?.keyId).toMatch(/^key_/);
    expect(entries[0]?.requestId).toMatch(/^req_/);
    const all = await runCli(['audit', '--since', '1h', '--json', ...storeArgs(server)]);
    const lists = (JSON.parse(all.stdout) as Array<Record<string, unknown>>).filter(
      (e) => e.operation === 'apps.secret.list',
    );
    expect(lists.some((e) => e.scopeUser === 'usr_audit' && e.name === null)).toBe(true);
    const table = await runCli(['audit', '--limit', '2', ...storeArgs(server)]);
    expect(table.stdout.trim().split('\n')).toHaveLength(3);
  });
});

describe('graceful shutdown', () => {
  /** Resolves once the server process has written `text`. */
  const written = (server: ServerHandle, text: string) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!server.output().includes(text)) return;
        server.process.stdout?.off('data', check);
        resolve();
      };
      server.process.stdout?.on('data', check);
      check();
    });

  it('finishes a request already in flight when SIGTERM arrives, then exits 0', async () => {
    const server = await startServer({ args: ['--log-format', 'json'] });
    dirs.push(server.dataDir);
    const body = 'name=drained&payload=p&scope[type]=account';
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        `${server.url}/v1/apps/secrets`,
        {
          method: 'POST',
          headers: {
            Authorization: 'Bearer sk_test_drain',
            'Content-Type': 'application/x-www-form-urlencoded',
            'Content-Length': Buffer.byteLength(body),
            // The 100 Continue says the request reached the handler; its body waits for the signal.
            Expect: '100-continue',
          },
        },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => {
            text += d.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.on('continue', () => {
        server.process.kill('SIGTERM');
        void written(server, 'received SIGTERM, shutting down').then(() => req.end(body));
      });
    });
    const response = await answer;
    expect(response.status).toBe(200);
    expect(JSON.parse(response.text)).toMatchObject({ name: 'drained' });
    expect(await server.exited()).toBe(0);
  });
});
