/**
 * Scopes and the cap of 10 secrets per scope, through stripe-node: account and user scopes are
 * separate namespaces, each user has its own, malformed scopes are 400s naming the scope param, and
 * the 11th distinct name in one scope is refused until one is deleted.
 */
import type Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import { serverForFile } from '../support/in-process-server.js';
import { assertMatchesSchema } from '../support/openapi.js';
import { expectStripeError, freshKey, ResponseAudit } from '../support/sdk.js';

const server = serverForFile();
const audit = new ResponseAudit();
afterEach(() => {
  audit.verify();
});

type Scope = Stripe.Apps.SecretCreateParams.Scope;
const ACCOUNT: Scope = { type: 'account' };
const user = (id: string): Scope => ({ type: 'user', user: id });
const client = (label: string): Stripe => audit.client(server, freshKey(label));

async function payloadOf(stripe: Stripe, name: string, scope: Scope): Promise<string | null | undefined> {
  const found = await stripe.apps.secrets.find({ name, scope, expand: ['payload'] });
  assertMatchesSchema('find', found);
  return found.payload;
}

async function namesIn(stripe: Stripe, scope: Scope): Promise<string[]> {
  const list = await stripe.apps.secrets.list({ scope, limit: 100 });
  assertMatchesSchema('list', list);
  for (const secret of list.data) expect(secret.scope).toEqual(scope);
  return list.data.map((s) => s.name).sort();
}

async function fill(stripe: Stripe, scope: Scope, count: number, prefix = 'n'): Promise<void> {
  for (let i = 0; i < count; i++) {
    const created = await stripe.apps.secrets.create({ name: `${prefix}${i}`, payload: `${prefix}${i}`, scope });
    assertMatchesSchema('create', created);
  }
}

const capError = {
  type: 'StripeInvalidRequestError',
  statusCode: 400,
  code: undefined,
  param: 'name',
  message: /10[\s\S]*delete/i,
} as const;

describe('scopes', () => {
  it('keeps account and user scope apart: the same name coexists in both', async () => {
    const stripe = client('scopes');
    const inAccount = await stripe.apps.secrets.create({ name: 'token', payload: 'for-account', scope: ACCOUNT });
    assertMatchesSchema('create', inAccount);
    const inUser = await stripe.apps.secrets.create({ name: 'token', payload: 'for-user', scope: user('usr_A') });
    assertMatchesSchema('create', inUser);
    expect(inUser.id).not.toBe(inAccount.id);
    expect(inUser.scope).toEqual({ type: 'user', user: 'usr_A' });
    expect(await payloadOf(stripe, 'token', ACCOUNT)).toBe('for-account');
    expect(await payloadOf(stripe, 'token', user('usr_A'))).toBe('for-user');
    expect(await namesIn(stripe, ACCOUNT)).toEqual(['token']);
    expect(await namesIn(stripe, user('usr_A'))).toEqual(['token']);
  });

  it('does not show a user-scoped secret in account scope, or the other way round', async () => {
    const stripe = client('scopes_only');
    await stripe.apps.secrets.create({ name: 'only-user', payload: 'u', scope: user('usr_A') });
    await stripe.apps.secrets.create({ name: 'only-account', payload: 'a', scope: ACCOUNT });
    await expectStripeError(stripe.apps.secrets.find({ name: 'only-user', scope: ACCOUNT }), {
      type: 'StripeInvalidRequestError',
      statusCode: 404,
      code: 'resource_missing',
      param: 'name',
    });
    await expectStripeError(stripe.apps.secrets.find({ name: 'only-account', scope: user('usr_A') }), {
      type: 'StripeInvalidRequestError',
      statusCode: 404,
      code: 'resource_missing',
      param: 'name',
    });
    await expectStripeError(stripe.apps.secrets.deleteWhere({ name: 'only-user', scope: ACCOUNT }), {
      type: 'StripeInvalidRequestError',
      statusCode: 404,
      code: 'resource_missing',
    });
    expect(await namesIn(stripe, ACCOUNT)).toEqual(['only-account']);
    expect(await namesIn(stripe, user('usr_A'))).toEqual(['only-user']);
  });

  it('gives two users separate scopes', async () => {
    const stripe = client('users');
    const alice = await stripe.apps.secrets.create({ name: 'oauth', payload: 'alice', scope: user('usr_Alice') });
    assertMatchesSchema('create', alice);
    const bob = await stripe.apps.secrets.create({ name: 'oauth', payload: 'bob', scope: user('usr_Bob') });
    assertMatchesSchema('create', bob);
    expect(bob.id).not.toBe(alice.id);
    expect(await payloadOf(stripe, 'oauth', user('usr_Alice'))).toBe('alice');
    expect(await payloadOf(stripe, 'oauth', user('usr_Bob'))).toBe('bob');
    await stripe.apps.secrets.create({ name: 'alice-only', payload: 'x', scope: user('usr_Alice') });
    expect(await namesIn(stripe, user('usr_Alice'))).toEqual(['alice-only', 'oauth']);
    expect(await namesIn(stripe, user('usr_Bob'))).toEqual(['oauth']);
    await expectStripeError(stripe.apps.secrets.find({ name: 'alice-only', scope: user('usr_Bob') }), {
      type: 'StripeInvalidRequestError',
      statusCode: 404,
      code: 'resource_missing',
    });
    const deleted = await stripe.apps.secrets.deleteWhere({ name: 'oauth', scope: user('usr_Bob') });
    assertMatchesSchema('delete', deleted);
    expect(deleted.id).toBe(bob.id);
    expect(await payloadOf(stripe, 'oauth', user('usr_Alice'))).toBe('alice');
  });

  describe('malformed scopes are 400s naming the scope parameter, on every operation', () => {
    const operations = (stripe: Stripe, scope: Scope) =>
      [
        ['create', () => stripe.apps.secrets.create({ name: 'n', payload: 'p', scope })],
        ['find', () => stripe.apps.secrets.find({ name: 'n', scope })],
        ['list', () => stripe.apps.secrets.list({ scope })],
        ['deleteWhere', () => stripe.apps.secrets.deleteWhere({ name: 'n', scope })],
      ] as const;

    it("requires scope[user] when scope[type] is 'user'", async () => {
      const stripe = client('scope_nouser');
      for (const [operation, call] of operations(stripe, { type: 'user' })) {
        const err = await expectStripeError(call(), {
          type: 'StripeInvalidRequestError',
          statusCode: 400,
          code: 'parameter_missing',
          param: 'scope[user]',
        });
        expect(err.message, operation).toContain('scope[user]');
      }
      expect(await namesIn(stripe, ACCOUNT)).toEqual([]);
    });

    it("refuses scope[user] when scope[type] is 'account'", async () => {
      const stripe = client('scope_extrauser');
      for (const [operation, call] of operations(stripe, { type: 'account', user: 'usr_X' })) {
        const err = await expectStripeError(call(), {
          type: 'StripeInvalidRequestError',
          statusCode: 400,
          code: 'parameter_unknown',
          param: 'scope[user]',
        });
        expect(err.message, operation).toContain('scope[user]');
      }
      expect(await namesIn(stripe, ACCOUNT)).toEqual([]);
    });

    it('refuses a scope type other than account or user', async () => {
      const stripe = client('scope_type');
      for (const [operation, call] of operations(stripe, { type: 'team' })) {
        const err = await expectStripeError(call(), {
          type: 'StripeInvalidRequestError',
          statusCode: 400,
          code: undefined,
          param: 'scope[type]',
        });
        expect(err.message, operation).toBe('Invalid scope[type]: must be one of account or user');
      }
    });
  });
});

describe('the cap of 10 secrets per scope', () => {
  it('accepts 10 distinct names and refuses the 11th with a message about deleting one', async () => {
    const stripe = client('cap');
    await fill(stripe, ACCOUNT, 10);
    expect(await namesIn(stripe, ACCOUNT)).toHaveLength(10);
    const err = await expectStripeError(
      stripe.apps.secrets.create({ name: 'eleventh', payload: 'p', scope: ACCOUNT }),
      capError,
    );
    expect(err.message).toContain('10');
    // Nothing was stored for the refused name.
    await expectStripeError(stripe.apps.secrets.find({ name: 'eleventh', scope: ACCOUNT }), {
      type: 'StripeInvalidRequestError',
      statusCode: 404,
      code: 'resource_missing',
    });
    expect(await namesIn(stripe, ACCOUNT)).toHaveLength(10);
  });

  it('has room again after one is deleted, and is full again after that', async () => {
    const stripe = client('cap_delete');
    await fill(stripe, ACCOUNT, 10);
    await expectStripeError(stripe.apps.secrets.create({ name: 'extra', payload: 'p', scope: ACCOUNT }), capError);
    const deleted = await stripe.apps.secrets.deleteWhere({ name: 'n4', scope: ACCOUNT });
    assertMatchesSchema('delete', deleted);
    const created = await stripe.apps.secrets.create({ name: 'extra', payload: 'fits', scope: ACCOUNT });
    assertMatchesSchema('create', created);
    expect(await payloadOf(stripe, 'extra', ACCOUNT)).toBe('fits');
    await expectStripeError(stripe.apps.secrets.create({ name: 'one-more', payload: 'p', scope: ACCOUNT }), capError);
    const names = await namesIn(stripe, ACCOUNT);
    expect(names).toHaveLength(10);
    expect(names).toContain('extra');
    expect(names).not.toContain('n4');
  });

  it('counts per scope: a full account scope leaves every user scope its own 10', async () => {
    const stripe = client('cap_scopes');
    await fill(stripe, ACCOUNT, 10);
    await expectStripeError(stripe.apps.secrets.create({ name: 'a11', payload: 'p', scope: ACCOUNT }), capError);
    await fill(stripe, user('usr_Full'), 10, 'u');
    await expectStripeError(
      stripe.apps.secrets.create({ name: 'u11', payload: 'p', scope: user('usr_Full') }),
      capError,
    );
    // Another user of the same platform still has room.
    const other = await stripe.apps.secrets.create({ name: 'u0', payload: 'other', scope: user('usr_Other') });
    assertMatchesSchema('create', other);
    expect(await namesIn(stripe, ACCOUNT)).toHaveLength(10);
    expect(await namesIn(stripe, user('usr_Full'))).toHaveLength(10);
    expect(await namesIn(stripe, user('usr_Other'))).toEqual(['u0']);
  });

  it('counts per platform: another API key has its own account scope', async () => {
    const full = client('cap_full');
    await fill(full, ACCOUNT, 10);
    await expectStripeError(full.apps.secrets.create({ name: 'n10', payload: 'p', scope: ACCOUNT }), capError);
    const other = client('cap_other');
    await fill(other, ACCOUNT, 10);
    expect(await namesIn(other, ACCOUNT)).toHaveLength(10);
  });
});
