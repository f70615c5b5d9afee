/**
 * Who sees which secrets, through stripe-node: each API key's platform is its own namespace,
 * Stripe-Account selects a connected account's namespace (per client or per request), test and live
 * mode are separate, and unregistered live keys and revoked keys are refused.
 */
import type Stripe from 'stripe';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { noSuchSecret } from '../support/api-assertions.js';
import { cli } from '../support/cli.js';
import { createKey, serverForFile, storeArgs } from '../support/in-process-server.js';
import { assertMatchesSchema } from '../support/openapi.js';
import { expectStripeError, freshKey, ResponseAudit, SECRET_ID } from '../support/sdk.js';

const server = serverForFile();
const audit = new ResponseAudit();
afterEach(() => {
  audit.verify();
});

const ACCOUNT = { type: 'account' } as const;

async function payloadOf(
  stripe: Stripe,
  name: string,
  options: Stripe.RequestOptions = {},
): Promise<string | null | undefined> {
  const found = await stripe.apps.secrets.find({ name, scope: ACCOUNT, expand: ['payload'] }, options);
  assertMatchesSchema('find', found);
  return found.payload;
}

async function namesOf(stripe: Stripe, options: Stripe.RequestOptions = {}): Promise<string[]> {
  const list = await stripe.apps.secrets.list({ scope: ACCOUNT, limit: 100 }, options);
  assertMatchesSchema('list', list);
  return list.data.map((s) => s.name).sort();
}

describe('API keys', () => {
  it('two emulator keys never see each other’s secrets', async () => {
    const a = audit.client(server, 'sk_test_a');
    const b = audit.client(server, 'sk_test_b');
    const inA = await a.apps.secrets.create({ name: 'shared-name', payload: 'from a', scope: ACCOUNT });
    assertMatchesSchema('create', inA);
    const inB = await b.apps.secrets.create({ name: 'shared-name', payload: 'from b', scope: ACCOUNT });
    assertMatchesSchema('create', inB);
    expect(inB.id).not.toBe(inA.id);
    await a.apps.secrets.create({ name: 'only-a', payload: 'a', scope: ACCOUNT });
    expect(await payloadOf(a, 'shared-name')).toBe('from a');
    expect(await payloadOf(b, 'shared-name')).toBe('from b');
    expect(await namesOf(a)).toEqual(['only-a', 'shared-name']);
    expect(await namesOf(b)).toEqual(['shared-name']);
    await expectStripeError(b.apps.secrets.find({ name: 'only-a', scope: ACCOUNT }), noSuchSecret('only-a'));
    await expectStripeError(b.apps.secrets.deleteWhere({ name: 'only-a', scope: ACCOUNT }), noSuchSecret('only-a'));
    // A cursor from a's namespace is unknown to b.
    await expectStripeError(b.apps.secrets.list({ scope: ACCOUNT, starting_after: inA.id }), {
      type: 'StripeInvalidRequestError',
      statusCode: 404,
      code: 'resource_missing',
      param: 'starting_after',
    });
    const deleted = await b.apps.secrets.deleteWhere({ name: 'shared-name', scope: ACCOUNT });
    assertMatchesSchema('delete', deleted);
    expect(deleted.id).toBe(inB.id);
    expect(await payloadOf(a, 'shared-name')).toBe('from a');
  });

  it('the same key always reaches the same namespace, from any client', async () => {
    const key = freshKey('stable');
    await audit.client(server, key).apps.secrets.create({ name: 'kept', payload: 'v', scope: ACCOUNT });
    expect(await payloadOf(audit.client(server, key), 'kept')).toBe('v');
  });

  it('accepts rk_test_ restricted keys for every operation', async () => {
    const rk = audit.client(server, freshKey('restricted', 'rk'));
    const created = await rk.apps.secrets.create({ name: 'r', payload: 'restricted', scope: ACCOUNT });
    assertMatchesSchema('create', created);
    expect(created.id).toMatch(SECRET_ID);
    expect(created.livemode).toBe(false);
    expect(await payloadOf(rk, 'r')).toBe('restricted');
    expect(await namesOf(rk)).toEqual(['r']);
    const deleted = await rk.apps.secrets.deleteWhere({ name: 'r', scope: ACCOUNT });
    assertMatchesSchema('delete', deleted);
    expect(deleted.deleted).toBe(true);
  });
});

describe('Stripe-Account (connected accounts)', () => {
  it('acts on a namespace separate from the key’s own account, whether set on the client or per request', async () => {
    const key = freshKey('connect');
    const platform = audit.client(server, key);
    const connected = audit.client(server, key, { stripeAccount: 'acct_Connected1' });
    const own = await platform.apps.secrets.create({ name: 'token', payload: 'platform', scope: ACCOUNT });
    assertMatchesSchema('create', own);
    const theirs = await connected.apps.secrets.create({ name: 'token', payload: 'connected', scope: ACCOUNT });
    assertMatchesSchema('create', theirs);
    expect(theirs.id).not.toBe(own.id);
    expect(theirs.lastResponse.stripeAccount).toBe('acct_Connected1');
    await connected.apps.secrets.create({ name: 'connected-only', payload: 'c', scope: ACCOUNT });

    expect(await payloadOf(platform, 'token')).toBe('platform');
    expect(await payloadOf(connected, 'token')).toBe('connected');
    // Per request, the same connected account is the same namespace.
    expect(await payloadOf(platform, 'token', { stripeAccount: 'acct_Connected1' })).toBe('connected');
    expect(await namesOf(platform)).toEqual(['token']);
    expect(await namesOf(platform, { stripeAccount: 'acct_Connected1' })).toEqual(['connected-only', 'token']);
    await expectStripeError(
      platform.apps.secrets.find({ name: 'connected-only', scope: ACCOUNT }),
      noSuchSecret('connected-only'),
    );

    // Deleting per request removes it from the connected account only.
    const deleted = await platform.apps.secrets.deleteWhere(
      { name: 'token', scope: ACCOUNT },
      { stripeAccount: 'acct_Connected1' },
    );
    assertMatchesSchema('delete', deleted);
    expect(deleted.id).toBe(theirs.id);
    expect(await payloadOf(platform, 'token')).toBe('platform');
    await expectStripeError(connected.apps.secrets.find({ name: 'token', scope: ACCOUNT }), noSuchSecret('token'));
  });

  it('keeps two connected accounts apart', async () => {
    const key = freshKey('connect_two');
    const one = audit.client(server, key, { stripeAccount: 'acct_One' });
    const two = audit.client(server, key, { stripeAccount: 'acct_Two' });
    await one.apps.secrets.create({ name: 'x', payload: 'one', scope: ACCOUNT });
    await expectStripeError(two.apps.secrets.find({ name: 'x', scope: ACCOUNT }), noSuchSecret('x'));
    await two.apps.secrets.create({ name: 'x', payload: 'two', scope: ACCOUNT });
    expect(await payloadOf(one, 'x')).toBe('one');
    expect(await payloadOf(two, 'x')).toBe('two');
  });

  it('a connected account’s secrets of one platform are invisible to another platform', async () => {
    const first = audit.client(server, freshKey('connect_p1'), { stripeAccount: 'acct_SharedConn' });
    const second = audit.client(server, freshKey('connect_p2'), { stripeAccount: 'acct_SharedConn' });
    await first.apps.secrets.create({ name: 'app-secret', payload: 'p1', scope: ACCOUNT });
    await expectStripeError(
      second.apps.secrets.find({ name: 'app-secret', scope: ACCOUNT }),
      noSuchSecret('app-secret'),
    );
    expect(await namesOf(second)).toEqual([]);
  });

  it('has its own cap of 10, apart from the platform’s', async () => {
    const key = freshKey('connect_cap');
    const platform = audit.client(server, key);
    for (let i = 0; i < 10; i++) await platform.apps.secrets.create({ name: `n${i}`, payload: 'p', scope: ACCOUNT });
    await expectStripeError(platform.apps.secrets.create({ name: 'n10', payload: 'p', scope: ACCOUNT }), {
      type: 'StripeInvalidRequestError',
      statusCode: 400,
      code: undefined,
      message: /^You can store at most 10 secrets in one scope/,
    });
    const created = await platform.apps.secrets.create(
      { name: 'n10', payload: 'p', scope: ACCOUNT },
      { stripeAccount: 'acct_CapConn' },
    );
    assertMatchesSchema('create', created);
  });
});

describe('test and live mode', () => {
  let testKey: string;
  let liveKey: string;
  beforeAll(async () => {
    liveKey = await createKey(server, ['--mode', 'live', '--account', 'acct_Modes1']);
    testKey = await createKey(server, ['--mode', 'test', '--account', 'acct_Modes1']);
  });

  it('are separate namespaces of the same account, and live objects say livemode: true', async () => {
    expect(liveKey).toMatch(/^sk_live_/);
    expect(testKey).toMatch(/^sk_test_/);
    const live = audit.client(server, liveKey);
    const test = audit.client(server, testKey);
    const inLive = await live.apps.secrets.create({ name: 'mode', payload: 'live value', scope: ACCOUNT });
    assertMatchesSchema('create', inLive);
    expect(inLive.livemode).toBe(true);
    await expectStripeError(test.apps.secrets.find({ name: 'mode', scope: ACCOUNT }), noSuchSecret('mode'));
    expect(await namesOf(test)).toEqual([]);

    const inTest = await test.apps.secrets.create({ name: 'mode', payload: 'test value', scope: ACCOUNT });
    assertMatchesSchema('create', inTest);
    expect(inTest.livemode).toBe(false);
    expect(inTest.id).not.toBe(inLive.id);

    const foundLive = await live.apps.secrets.find({ name: 'mode', scope: ACCOUNT, expand: ['payload'] });
    assertMatchesSchema('find', foundLive);
    expect(foundLive.livemode).toBe(true);
    expect(foundLive.payload).toBe('live value');
    const foundTest = await test.apps.secrets.find({ name: 'mode', scope: ACCOUNT, expand: ['payload'] });
    assertMatchesSchema('find', foundTest);
    expect(foundTest.livemode).toBe(false);
    expect(foundTest.payload).toBe('test value');

    const liveList = await live.apps.secrets.list({ scope: ACCOUNT });
    assertMatchesSchema('list', liveList);
    expect(liveList.data.map((s) => [s.id, s.livemode])).toEqual([[inLive.id, true]]);

    const deleted = await live.apps.secrets.deleteWhere({ name: 'mode', scope: ACCOUNT });
    assertMatchesSchema('delete', deleted);
    expect(deleted.livemode).toBe(true);
    expect(await payloadOf(test, 'mode')).toBe('test value');
  });

  it('a registered key of an account does not share that account’s namespace with an emulator key', async () => {
    const registered = audit.client(server, testKey);
    await registered.apps.secrets.create({ name: 'registered-only', payload: 'r', scope: ACCOUNT });
    const emulated = audit.client(server, freshKey('not_registered'));
    await expectStripeError(
      emulated.apps.secrets.find({ name: 'registered-only', scope: ACCOUNT }),
      noSuchSecret('registered-only'),
    );
  });

  it('an unregistered sk_live_ key is a StripeAuthenticationError (401)', async () => {
    const live = audit.client(server, 'sk_live_NotRegistered0123456789');
    const err = await expectStripeError(live.apps.secrets.list({ scope: ACCOUNT }), {
      type: 'StripeAuthenticationError',
      statusCode: 401,
      code: undefined,
    });
    expect(err.message).not.toContain('sk_live_NotRegistered0123456789');
    await expectStripeError(live.apps.secrets.create({ name: 'n', payload: 'p', scope: ACCOUNT }), {
      type: 'StripeAuthenticationError',
      statusCode: 401,
    });
  });
});

describe('a revoked key', () => {
  it('is refused on the next request, while the account’s other keys and secrets stay', async () => {
    const doomed = await createKey(server, ['--mode', 'test', '--account', 'acct_Revoke1']);
    const sibling = await createKey(server, ['--mode', 'test', '--account', 'acct_Revoke1']);
    const stripe = audit.client(server, doomed);
    const created = await stripe.apps.secrets.create({ name: 'survives', payload: 'still here', scope: ACCOUNT });
    assertMatchesSchema('create', created);

    const listed = await cli(['keys', 'list', '--json', ...storeArgs(server)]);
    expect(listed.code, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as Array<{ id: string; platform: string; key: string; status: string }>;
    const doomedRow = rows.find((r) => r.platform === 'acct_Revoke1' && r.key.endsWith(doomed.slice(-4)));
    expect(doomedRow).toBeDefined();
    const revoked = await cli(['keys', 'revoke', doomedRow?.id ?? '', ...storeArgs(server)]);
    expect(revoked.code, revoked.stderr).toBe(0);

    // The same client object, whose earlier request succeeded.
    const err = await expectStripeError(stripe.apps.secrets.find({ name: 'survives', scope: ACCOUNT }), {
      type: 'StripeAuthenticationError',
      statusCode: 401,
      code: 'api_key_expired',
    });
    expect(err.message).not.toContain(doomed);
    await expectStripeError(stripe.apps.secrets.create({ name: 'after', payload: 'p', scope: ACCOUNT }), {
      type: 'StripeAuthenticationError',
      statusCode: 401,
      code: 'api_key_expired',
    });
    expect(await payloadOf(audit.client(server, sibling), 'survives')).toBe('still here');
    expect(await namesOf(audit.client(server, sibling))).toEqual(['survives']);
  });
});
