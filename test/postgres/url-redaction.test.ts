/**
 * No form of the database URL puts a credential in the log: the server is started with each form
 * (the password in the user-info, as `?password=`, under a percent-encoded or upper-case name, and
 * beside it `sslpassword`, `passfile` and a token), serves a request, stops, and every line it
 * wrote is searched for the secrets. A start that fails on an unreachable database is searched too.
 * Without a password in the test URL (trust authentication), made-up passwords stand in for it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSchema, type TestSchema } from '../support/postgres.js';
import { freePort, removeDir, runCli, startServer, tempDir } from '../support/server-process.js';

// A schema per start: each server generates its own master key.
let schema: TestSchema;
beforeEach(async () => {
  schema = await createSchema('redact');
});
afterEach(async () => {
  await schema?.drop();
});

/** The schema's URL with its password taken out; the password, or a made-up one under trust. */
function parts(): { bare: URL; password: string } {
  const bare = new URL(schema.url);
  const password = bare.password ? decodeURIComponent(bare.password) : 'S3cr3t-userinfo-pw';
  bare.password = '';
  return { bare, password };
}

const withParams = (url: URL, params: Record<string, string>): string => {
  const copy = new URL(url);
  for (const [name, value] of Object.entries(params)) copy.searchParams.append(name, value);
  return copy.toString();
};

const FORMS: ReadonlyArray<readonly [string, (bare: URL, password: string) => { url: string; secrets: string[] }]> = [
  [
    'user-info password',
    (bare, password) => {
      const url = new URL(bare);
      url.password = password;
      return { url: url.toString(), secrets: [password] };
    },
  ],
  ['password=', (bare, password) => ({ url: withParams(bare, { password }), secrets: [password] })],
  [
    'percent-encoded and upper-case names',
    (bare, password) => ({
      url: withParams(bare, { password, PASSWORD: 'S3cr3t-upper' }).replace('password=', 'pass%77ord='),
      secrets: [password, 'S3cr3t-upper'],
    }),
  ],
  [
    'sslpassword, passfile and a token beside the password',
    (bare, password) => ({
      url: withParams(bare, {
        password,
        sslpassword: 'S3cr3t-sslpassword',
        passfile: '/tmp/S3cr3t-passfile',
        auth_token: 'S3cr3t-token',
      }),
      secrets: [password, 'S3cr3t-sslpassword', 'S3cr3t-passfile', 'S3cr3t-token'],
    }),
  ],
];

describe('the database URL in the log', () => {
  it.each(FORMS)('%s: no credential in any line, the URL shown redacted', async (_, form) => {
    const { bare, password } = parts();
    const { url, secrets } = form(bare, password);
    const server = await startServer({ databaseUrl: url });
    try {
      const stripe = server.stripe('sk_test_redact');
      await stripe.apps.secrets.create({ name: 'n', payload: 'p', scope: { type: 'account' } });
      await expect(stripe.apps.secrets.find({ name: 'missing', scope: { type: 'account' } })).rejects.toThrow();
    } finally {
      await server.stop();
      removeDir(server.dataDir);
    }
    const lines = server.output().split('\n');
    expect(lines.length).toBeGreaterThan(3);
    for (const secret of secrets) {
      for (const line of lines) expect(line).not.toContain(secret);
    }
    expect(lines.find((line) => line.includes('listening on'))).toContain('***');
  });

  it('a start that cannot reach the database says so without a credential', async () => {
    const port = await freePort();
    const url = `postgres://app:S3cr3t-unreachable@127.0.0.1:${port}/x?sslpassword=S3cr3t-ssl-unreachable`;
    const dataDir = tempDir();
    try {
      const result = await runCli(['serve', '--port', '0', '--data-dir', dataDir], {
        DATABASE_URL: url,
        SECRET_STORE_DB_CONNECT_TIMEOUT_MS: '1000',
      });
      expect(result.code).not.toBe(0);
      const output = `${result.stdout}\n${result.stderr}`;
      expect(output).toMatch(/ECONNREFUSED|connect/i);
      expect(output).not.toContain('S3cr3t');
    } finally {
      removeDir(dataDir);
    }
  });
});
