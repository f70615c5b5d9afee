/**
 * Fuzzing the HTTP surface: 10,000 generated requests (bad encodings, invalid UTF-8, deep and huge
 * bracket nesting, prototype keys, repeated and conflicting parameters, enormous values, wrong
 * methods and content types, garbage auth headers). Every answer must be a Stripe-shaped JSON error
 * or a valid success, never a 5xx, a crash or a stack trace, and a rejected request must leave the
 * stored data exactly as it was. It runs on each engine (the `postgres` project runs it on PostgreSQL).
 *
 * The seed is fixed (CI reproduces every run); FUZZ_SEED=random picks a new one, FUZZ_SEED=<n> and
 * FUZZ_RUNS=<n> reproduce or lengthen a run.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessHandle, removeDir, startInProcess } from '../support/in-process-server.js';
import { assertMatchesSchema } from '../support/openapi.js';
import { testEngine } from '../support/postgres.js';
import { rawRequest, sendRaw } from '../support/raw-http.js';

const SEED = process.env.FUZZ_SEED === 'random' ? Date.now() % 2 ** 31 : Number(process.env.FUZZ_SEED ?? 20261123);
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const KEY = 'sk_test_fuzz';

/** Every stored secret, column for column, as the engine under test holds it. */
const SECRETS =
  'select id, name, scope_type, scope_user, account, livemode, ciphertext, expires_at from secrets order by id';

let server: InProcessHandle;
/** The stored rows, read straight from the database (SQLite's file, or the PostgreSQL schema). */
let storedRows: () => Promise<unknown[]>;
let closeReader: () => Promise<void>;
beforeAll(async () => {
  server = await startInProcess({ engine: testEngine(), env: { SECRET_STORE_MAX_HEADER_BYTES: '16384' } });
  const stripe = server.stripe(KEY);
  for (const [name, user] of [
    ['n1', undefined],
    ['n2', 'usr_1'],
    ['p', 'usr_2'],
  ] as const) {
    await stripe.apps.secrets.create({
      name,
      payload: `seed-${name}`,
      scope: user ? { type: 'user', user } : { type: 'account' },
    });
  }
  // A secret of another platform that no fuzzed request may reach.
  await server
    .stripe('sk_test_canary')
    .apps.secrets.create({ name: 'n1', payload: 'canary', scope: { type: 'account' } });
  if (server.databaseUrl) {
    const client = new pg.Client({ connectionString: server.databaseUrl });
    await client.connect();
    storedRows = async () => (await client.query(SECRETS)).rows;
    closeReader = () => client.end();
  } else {
    const db = new Database(join(server.dataDir, 'secret-store.db'), { readonly: true });
    const statement = db.prepare(SECRETS);
    storedRows = async () => statement.all();
    closeReader = async () => {
      db.close();
    };
  }
});
afterAll(async () => {
  await closeReader?.();
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

const fingerprint = async () =>
  createHash('sha256')
    .update(JSON.stringify(await storedRows()))
    .digest('hex');

// ---- generators ----

const PATHS = ['/v1/apps/secrets', '/v1/apps/secrets/find', '/v1/apps/secrets/delete'];
const KNOWN_KEYS = [
  'name',
  'payload',
  'scope[type]',
  'scope[user]',
  'expand[]',
  'expand[0]',
  'expand[1]',
  'limit',
  'starting_after',
  'ending_before',
  'expires_at',
  'scope',
];
const NASTY_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  '__proto__[polluted]',
  'constructor[prototype][polluted]',
  'scope[__proto__][type]',
  'scope[constructor]',
  'expand[__proto__]',
  'expand[99999999]',
  'expand[-1]',
  '[',
  ']',
  '[]',
  'a]b',
  'scope[type',
  'scope]type[',
  '%5B',
  'scope%5Btype%5D',
  'name%00',
  '%zz',
  '%',
  '%f',
  '%ff',
  '%C3%28',
  '%ED%A0%80',
  '%C0%AF',
  '%E2%82',
  '+',
  'name+',
  'na%6De',
];
const VALUES = [
  'account',
  'user',
  'usr_1',
  'usr_2',
  'n1',
  'n2',
  'p',
  'payload',
  '0',
  '1',
  '10',
  '100',
  '101',
  '-1',
  '1.5',
  '1e3',
  '9999999999999999999',
  '',
  'appsecret_000000000000000000000000000000',
];

const encodedGarbage = fc.constantFrom(
  '%zz',
  '%',
  '%f',
  '%ff',
  '%fe%ff',
  '%C3%28',
  '%ED%A0%80',
  '%C0%AF',
  '%E2%82',
  '%00',
  '%0A',
  '+',
  '%2B',
  '%25',
);
const unicode = fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => encodeURIComponent(s));
const hugeValue = fc.integer({ min: 1000, max: 120_000 }).map((n) => 'A'.repeat(n));
const deepKey = fc
  .tuple(
    fc.constantFrom('scope', 'expand', 'x', 'name'),
    fc.integer({ min: 1, max: 60 }),
    fc.constantFrom('[a]', '[]', '[0]', '[type]'),
  )
  .map(([base, depth, seg]) => base + seg.repeat(depth));
const key = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...KNOWN_KEYS) },
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_KEYS) },
  { weight: 1, arbitrary: deepKey },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map((s) => encodeURIComponent(s)) },
);
const value = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...VALUES) },
  { weight: 2, arbitrary: unicode },
  { weight: 2, arbitrary: encodedGarbage },
  {
    weight: 1,
    arbitrary: fc.oneof({ weight: 1, arbitrary: hugeValue }, { weight: 4, arbitrary: fc.constant('B'.repeat(5001)) }),
  },
);
const formText = fc
  .array(fc.tuple(key, fc.option(value, { nil: undefined })), { maxLength: 12 })
  .map((pairs) => pairs.map(([k, v]) => (v === undefined ? k : `${k}=${v}`)).join('&'));
const manyParams = fc
  .integer({ min: 200, max: 600 })
  .map((n) => Array.from({ length: n }, (_, i) => `expand[]=x${i}`).join('&'));

const printable = fc.string({ minLength: 0, maxLength: 60 }).map((s) => s.replace(/[^\x20-\x7e]/g, ''));
const authHeader = fc.oneof(
  { weight: 8, arbitrary: fc.constant(`Bearer ${KEY}`) },
  { weight: 1, arbitrary: fc.constant(`Basic ${Buffer.from(`${KEY}:`).toString('base64')}`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'Bearer ',
      'Bearer sk_live_nope',
      'Basic !!!',
      'Token abc',
      'Bearer rk_test_1',
      `Bearer ${'k'.repeat(5000)}`,
    ),
  },
  { weight: 1, arbitrary: printable },
);
const contentType = fc.constantFrom(
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=utf-8',
  'application/json',
  'multipart/form-data; boundary=x',
  'text/plain',
  '',
  'garbage/!!',
);

const request = fc.record({
  method: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom('GET', 'POST') },
    { weight: 1, arbitrary: fc.constantFrom('PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'get', 'FOO', 'CONNECT') },
  ),
  path: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...PATHS) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '/v1/apps/secrets/',
        '/v1/customers',
        '/',
        '/v1/apps/%73ecrets',
        '/v1/apps/secrets/find/x',
        '//v1/apps/secrets',
        '/dashboard/../../etc/passwd',
        '*',
      ),
    },
  ),
  query: fc.oneof(
    { weight: 3, arbitrary: formText },
    { weight: 1, arbitrary: fc.constant('') },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ maxLength: 30 }).map((b) => Buffer.from(b).toString('latin1').replace(/[\s#]/g, '')),
    },
  ),
  body: fc.oneof(
    { weight: 5, arbitrary: formText.map((t) => Buffer.from(t)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) },
    { weight: 1, arbitrary: manyParams.map((t) => Buffer.from(t)) },
    { weight: 1, arbitrary: fc.constant(Buffer.from('{"name":"n1","payload":"x","scope":{"type":"account"}}')) },
  ),
  auth: fc.option(authHeader, { nil: undefined, freq: 10 }),
  contentType: fc.option(contentType, { nil: undefined, freq: 8 }),
  stripeAccount: fc.option(fc.constantFrom('acct_1', 'acct_', 'bogus', 'acct_1; drop', 'x'.repeat(300)), {
    nil: undefined,
    freq: 4,
  }),
  idempotencyKey: fc.option(fc.oneof(printable, fc.constant('k'.repeat(300))), { nil: undefined, freq: 4 }),
  stripeVersion: fc.option(fc.constantFrom('2026-10-28.endive', '2024-06-20', 'latest', '../../'), {
    nil: undefined,
    freq: 5,
  }),
});

/** A valid call for one of the four routes, then up to three mutations of its parameters. */
const scopeParams = fc.oneof(
  fc.constant('scope[type]=account'),
  fc.constantFrom('usr_1', 'usr_2').map((u) => `scope[type]=user&scope[user]=${u}`),
);
const nearValid = fc
  .tuple(
    fc.constantFrom('create', 'find', 'list', 'delete'),
    fc.constantFrom('n1', 'n2', 'n3', 'p'),
    scopeParams,
    fc.oneof(unicode, fc.constantFrom('v', 'x y', 'a+b=c&d')),
    fc.array(fc.tuple(key, value), { maxLength: 3 }),
    fc.boolean(),
  )
  .map(([op, name, scope, payload, extra, inQuery]) => {
    const base = {
      create: { method: 'POST', path: '/v1/apps/secrets', params: `name=${name}&payload=${payload}&${scope}` },
      find: { method: 'GET', path: '/v1/apps/secrets/find', params: `name=${name}&${scope}&expand[]=payload` },
      list: { method: 'GET', path: '/v1/apps/secrets', params: `${scope}&limit=5` },
      delete: { method: 'POST', path: '/v1/apps/secrets/delete', params: `name=${name}&${scope}` },
    }[op] as { method: string; path: string; params: string };
    const params = [base.params, ...extra.map(([k, v]) => `${k}=${v}`)].join('&');
    const asQuery = base.method === 'GET' || inQuery;
    return {
      method: base.method,
      path: base.path,
      query: asQuery ? params : '',
      body: Buffer.from(asQuery ? '' : params),
      auth: `Bearer ${KEY}` as string | undefined,
      contentType: 'application/x-www-form-urlencoded' as string | undefined,
      stripeAccount: undefined as string | undefined,
      idempotencyKey: undefined as string | undefined,
      stripeVersion: undefined as string | undefined,
    };
  });

const anyRequest = fc.oneof({ weight: 1, arbitrary: request }, { weight: 1, arbitrary: nearValid });

const ERROR_TYPES = new Set(['api_error', 'card_error', 'idempotency_error', 'invalid_request_error']);

describe('fuzzing the HTTP surface', () => {
  it(`answers ${RUNS} generated requests with Stripe-shaped JSON, no 5xx, and rejected ones change nothing (seed ${SEED})`, async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(anyRequest, async (r) => {
        const headers: Array<[string, string]> = [];
        if (r.auth !== undefined) headers.push(['Authorization', r.auth]);
        if (r.contentType !== undefined) headers.push(['Content-Type', r.contentType]);
        if (r.stripeAccount !== undefined) headers.push(['Stripe-Account', r.stripeAccount]);
        if (r.idempotencyKey !== undefined) headers.push(['Idempotency-Key', r.idempotencyKey]);
        if (r.stripeVersion !== undefined) headers.push(['Stripe-Version', r.stripeVersion]);
        const target = Buffer.from(r.query ? `${r.path}?${r.query}` : r.path, 'latin1');
        const before = await fingerprint();
        const reply = await sendRaw(
          server.port,
          rawRequest(r.method, target, headers, r.method === 'GET' ? '' : r.body),
        );
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
        expect(reply.dropped, `no answer to ${r.method} ${r.path}`).toBe(false);
        expect(reply.status).toBeLessThan(500);
        expect(reply.body).not.toMatch(/\n\s+at \S+ \(/);
        if (r.method !== 'HEAD') {
          expect(reply.headers['content-type']).toBe('application/json');
          const body = JSON.parse(reply.body) as { error?: { type: string; message: string } };
          if (reply.status >= 400) {
            assertMatchesSchema('error', body);
            expect(ERROR_TYPES.has(body.error?.type ?? '')).toBe(true);
            expect(body.error?.message.length).toBeGreaterThan(0);
          }
        }
        if (reply.status >= 400) expect(await fingerprint()).toBe(before);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    const summary = [...statuses.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([s, n]) => `${s}:${n}`)
      .join(' ');
    process.stdout.write(`\nfuzz: ${RUNS} requests, seed ${SEED}, statuses ${summary}\n`);
    expect([...statuses.keys()].every((s) => s < 500)).toBe(true);
    // The requests are a function of the seed and run one at a time, so the tally of statuses is
    // too: this checks the generator still reaches the success path, not how fast anything ran.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(RUNS / 20);
    // Still healthy, and no prototype was polluted inside the server.
    const canary = await server
      .stripe('sk_test_canary')
      .apps.secrets.find({ name: 'n1', scope: { type: 'account' }, expand: ['payload'] });
    expect(canary.payload).toBe('canary');
  }, 600_000);

  it('answers oversized headers and malformed HTTP with JSON errors', async () => {
    const big = await sendRaw(
      server.port,
      rawRequest('GET', '/v1/apps/secrets?scope[type]=account', [
        ['Authorization', `Bearer ${KEY}`],
        ['X-Big', 'x'.repeat(20_000)],
      ]),
    );
    expect(big.status).toBe(431);
    expect(JSON.parse(big.body)).toEqual({
      error: { message: 'The request headers are larger than the server accepts.', type: 'invalid_request_error' },
    });
    const broken = await sendRaw(server.port, Buffer.from('THIS IS NOT HTTP\r\n\r\n'));
    expect(broken.status).toBe(400);
    expect(JSON.parse(broken.body)).toEqual({
      error: { message: 'The request is not valid HTTP/1.1.', type: 'invalid_request_error' },
    });
  });
});
