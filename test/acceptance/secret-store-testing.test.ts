/**
 * `startSecretStore` from `secret-store/testing` (README, "Testing your app"): the real server in
 * the test's process, in memory, on a free port, with a clock that stands still until moved, a reset
 * and fixtures. The documented vitest and node:test examples run in testing-docs.test.ts; that the
 * store touches no disk is checked there too, in a process of its own.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Stripe from 'stripe';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startSecretStore, type TestSecretStore } from '../../src/testing/index.js';
import { noSuchSecret } from '../support/api-assertions.js';
import { removeDir, tempDir } from '../support/in-process-server.js';
import { expectStripeError } from '../support/sdk.js';

const ACCOUNT = { type: 'account' } as const;
const started: TestSecretStore[] = [];
const dir = tempDir();

afterEach(async () => {
  await Promise.all(started.splice(0).map((store) => store.close()));
});
afterAll(() => removeDir(dir));

async function start(options: Parameters<typeof startSecretStore>[0] = {}): Promise<TestSecretStore> {
  const store = await startSecretStore(options);
  started.push(store);
  return store;
}

const stripeOf = (store: TestSecretStore, key = 'sk_test_123') =>
  new Stripe(key, { ...store.stripeOptions, maxNetworkRetries: 0 });

describe('startSecretStore', () => {
  it('serves the Secret Store on a free loopback port, for stripe-node as it is', async () => {
    const store = await start();
    expect(store.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(store.stripeOptions).toEqual({ host: '127.0.0.1', port: store.port, protocol: 'http' });
    expect(store.url).toBe(`http://127.0.0.1:${store.port}`);
    const stripe = stripeOf(store);
    await stripe.apps.secrets.create({ name: 'api_key', payload: 's3cr3t', scope: ACCOUNT });
    const found = await stripe.apps.secrets.find({ name: 'api_key', scope: ACCOUNT, expand: ['payload'] });
    expect(found.payload).toBe('s3cr3t');
    // Emulator mode: every test key is its own platform.
    await expectStripeError(
      stripeOf(store, 'sk_test_someone_else').apps.secrets.find({ name: 'api_key', scope: ACCOUNT }),
      noSuchSecret('api_key'),
    );
  });

  it('starts stores that share nothing, at the same time or one after the other', async () => {
    const [one, two] = await Promise.all([start(), start()]);
    expect(one.port).not.toBe(two.port);
    await stripeOf(one).apps.secrets.create({ name: 'only_in_one', payload: 'p', scope: ACCOUNT });
    expect((await stripeOf(two).apps.secrets.list({ scope: ACCOUNT })).data).toEqual([]);
    // A store started later starts empty too (the schema is copied, never the data).
    const three = await start();
    expect((await stripeOf(three).apps.secrets.list({ scope: ACCOUNT })).data).toEqual([]);
    await stripeOf(three).apps.secrets.create({ name: 'only_in_three', payload: 'p', scope: ACCOUNT });
    expect((await stripeOf(one).apps.secrets.list({ scope: ACCOUNT })).data.map((s) => s.name)).toEqual([
      'only_in_one',
    ]);
  });

  it('has a clock that stands still until the test moves it; expiry follows at once', async () => {
    const store = await start({ startAt: 1_900_000_000 });
    const stripe = stripeOf(store);
    expect(store.clock.now()).toBe(1_900_000_000);
    const created = await stripe.apps.secrets.create({
      name: 'token',
      payload: 't',
      scope: ACCOUNT,
      expires_at: store.clock.now() + 3600,
    });
    expect(created.created).toBe(1_900_000_000);
    expect(await store.clock.advance(3599)).toBe(1_900_003_599);
    expect((await stripe.apps.secrets.find({ name: 'token', scope: ACCOUNT })).expires_at).toBe(1_900_003_600);
    await store.clock.advance(1);
    await expectStripeError(stripe.apps.secrets.find({ name: 'token', scope: ACCOUNT }), noSuchSecret('token'));
    // The HTTP clock of a platform starts from the store's clock.
    expect(await stripe.rawRequest('GET', '/_secret_store/clock')).toMatchObject({ now: 1_900_003_600 });
  });

  it('takes a Date to start at, and refuses to move its clock back', async () => {
    const store = await start({ startAt: new Date('2030-01-01T00:00:00.750Z') });
    expect(store.clock.now()).toBe(Date.UTC(2030, 0, 1) / 1000);
    await expect(store.clock.advance(-1)).rejects.toThrow(RangeError);
    await expect(store.clock.advance(0.5)).rejects.toThrow(RangeError);
    expect(store.clock.now()).toBe(Date.UTC(2030, 0, 1) / 1000);
    await expect(startSecretStore({ startAt: -5 })).rejects.toThrow(RangeError);
  });

  it('resets: every secret, idempotency record and audit row of every platform goes, the fixtures come back', async () => {
    const store = await start({
      fixtures: [
        { name: 'webhook_secret', payload: 'whsec', scope: ACCOUNT },
        { name: 'theirs', payload: 'p', scope: ACCOUNT, key: 'sk_test_other' },
      ],
    });
    const ours = stripeOf(store);
    const theirs = stripeOf(store, 'sk_test_other');
    await ours.apps.secrets.create({ name: 'temp', payload: 'p', scope: ACCOUNT }, { idempotencyKey: 'k1' });
    await theirs.apps.secrets.deleteWhere({ name: 'theirs', scope: ACCOUNT });
    await store.reset();
    expect((await ours.apps.secrets.list({ scope: ACCOUNT })).data.map((s) => s.name)).toEqual(['webhook_secret']);
    expect((await theirs.apps.secrets.list({ scope: ACCOUNT })).data.map((s) => s.name)).toEqual(['theirs']);
    // The idempotency record is gone: the key runs a new request, with other parameters.
    const fresh = await ours.apps.secrets.create(
      { name: 'other', payload: 'p', scope: ACCOUNT },
      { idempotencyKey: 'k1' },
    );
    expect(fresh.name).toBe('other');
    // So are the audit rows: the next reset of the platform finds only this test's one.
    const answer = await ours.rawRequest('POST', '/_secret_store/reset');
    expect(answer).toMatchObject({
      deleted: { secrets: 2, idempotency_records: 1, audit_rows: 1 },
      fixtures_loaded: 1,
    });
  });

  it('loads fixtures from a file', async () => {
    const file = join(dir, 'from-file.json');
    writeFileSync(file, JSON.stringify([{ name: 'from_file', payload: 'f', scope: { type: 'user', user: 'usr_1' } }]));
    const store = await start({ fixtures: file });
    const found = await stripeOf(store).apps.secrets.find({
      name: 'from_file',
      scope: { type: 'user', user: 'usr_1' },
      expand: ['payload'],
    });
    expect(found.payload).toBe('f');
  });

  it('stops answering when closed', async () => {
    const store = await startSecretStore();
    await store.close();
    await expect(fetch(`${store.url}/healthz`)).rejects.toThrow();
  });
});

describe('bad fixtures fail the start, naming the entry and the reason', () => {
  const secret = { name: 'ok', payload: 'p', scope: ACCOUNT };
  const cases: ReadonlyArray<readonly [string, unknown, string]> = [
    ['an entry that is not an object', [secret, 'text'], 'entry 2: must be an object with name, payload and scope'],
    ['a missing payload', [{ name: 'x', scope: ACCOUNT }], 'entry 1 ("x"): Missing required param: payload.'],
    [
      'an unknown scope type',
      [secret, { name: 'y', payload: 'p', scope: { type: 'team' } }],
      'entry 2 ("y"): Invalid scope[type]: must be one of account or user',
    ],
    [
      'a user scope without a user',
      [{ name: 'u', payload: 'p', scope: { type: 'user' } }],
      'entry 1 ("u"): Missing required param: scope[user].',
    ],
    [
      'an unknown field',
      [{ ...secret, expand: ['payload'] }],
      'entry 1 ("ok"): unknown field "expand" (fields: name, payload, scope, expires_at, account, key)',
    ],
    ['a live key', [{ ...secret, key: 'sk_live_123' }], 'entry 1 ("ok"): key must be a test key'],
    ['a malformed key', [{ ...secret, key: 'sk_test_ spaces' }], 'entry 1 ("ok"): key must be a test key'],
    [
      'a malformed account',
      [{ ...secret, account: 'acme' }],
      'entry 1 ("ok"): account must be a connected account id (acct_...)',
    ],
    [
      'an expiry in the past',
      [{ ...secret, expires_at: 1_000_000_000 }],
      'entry 1 ("ok"): Invalid expires_at: must be a unix timestamp in the future.',
    ],
    ['an expiry that is not an integer', [{ ...secret, expires_at: 'soon' }], 'entry 1 ("ok"): Invalid integer: soon'],
    [
      'an eleventh secret in one scope',
      Array.from({ length: 11 }, (_, i) => ({ name: `s${i + 1}`, payload: 'p', scope: ACCOUNT })),
      'entry 11 ("s11"): You can store at most 10 secrets in one scope.',
    ],
    [
      'the same secret twice',
      [secret, { ...secret, payload: 'q' }],
      'entry 2 ("ok"): the same secret as entry 1 (same key, account, scope and name)',
    ],
  ];

  it.each(cases)('%s', async (_label, fixtures, reason) => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify(fixtures));
    await expect(startSecretStore({ fixtures: file })).rejects.toThrow(`${file}: ${reason}`);
  });

  it('a file that is not a JSON array, or is missing', async () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '[{"name": ');
    await expect(startSecretStore({ fixtures: file })).rejects.toThrow(`the fixtures file ${file} is not valid JSON`);
    writeFileSync(file, '{"name": "x"}');
    await expect(startSecretStore({ fixtures: file })).rejects.toThrow(
      `the fixtures file ${file} must hold a JSON array of secrets`,
    );
    await expect(startSecretStore({ fixtures: join(dir, 'absent.json') })).rejects.toThrow(
      `cannot read the fixtures file ${join(dir, 'absent.json')}: ENOENT`,
    );
  });

  it('entries given in code are named as fixtures', async () => {
    await expect(startSecretStore({ fixtures: [{ name: 'x', payload: '', scope: ACCOUNT }] })).rejects.toThrow(
      'fixtures: entry 1 ("x"): You passed an empty string for \'payload\'.',
    );
  });
});
