/**
 * Set (create or replace), find and deleteWhere through the official stripe-node client: the shape of
 * the apps.secret object, payload expansion, payloads that stress the form encoding, replace
 * semantics (README decision G1) and delete.
 */
import type Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import { serverForFile } from '../support/in-process-server.js';
import { assertMatchesSchema } from '../support/openapi.js';
import { expectStripeError, freshKey, REQUEST_ID, ResponseAudit, SECRET_ID } from '../support/sdk.js';

const server = serverForFile();
const audit = new ResponseAudit();
afterEach(() => {
  audit.verify();
});

const ACCOUNT = { type: 'account' } as const;
const client = (label: string): Stripe => audit.client(server, freshKey(label));

describe('create', () => {
  it('returns an apps.secret without its payload', async () => {
    const stripe = client('create');
    const created = await stripe.apps.secrets.create({ name: 'api-key', payload: 's3cr3t', scope: ACCOUNT });
    assertMatchesSchema('create', created);
    expect(created.id).toMatch(SECRET_ID);
    expect(created.object).toBe('apps.secret');
    // The server's clock stands still until the test moves it: `created` is exactly its time.
    expect(created.created).toBe(server.clock.now());
    expect(created.expires_at).toBeNull();
    expect(created.livemode).toBe(false);
    expect(created.name).toBe('api-key');
    expect(created.scope).toEqual({ type: 'account' });
    expect('payload' in created).toBe(false);
    expect('deleted' in created).toBe(false);
    expect(created.lastResponse.statusCode).toBe(200);
    expect(created.lastResponse.requestId).toMatch(REQUEST_ID);
  });

  it('returns a user scope with its user', async () => {
    const stripe = client('create_user');
    const created = await stripe.apps.secrets.create({
      name: 'token',
      payload: 'u',
      scope: { type: 'user', user: 'usr_Create1' },
    });
    assertMatchesSchema('create', created);
    expect(created.scope).toEqual({ type: 'user', user: 'usr_Create1' });
    expect('payload' in created).toBe(false);
  });

  it('includes the payload only when expand: [payload] is asked for', async () => {
    const stripe = client('create_expand');
    const created = await stripe.apps.secrets.create({
      name: 'expanded',
      payload: 'shown',
      scope: ACCOUNT,
      expand: ['payload'],
    });
    assertMatchesSchema('create', created);
    expect(created.payload).toBe('shown');
  });

  it('echoes expires_at when one is given', async () => {
    const stripe = client('create_expiry');
    const expiresAt = server.clock.now() + 3600;
    const created = await stripe.apps.secrets.create({
      name: 'soon',
      payload: 'p',
      scope: ACCOUNT,
      expires_at: expiresAt,
    });
    assertMatchesSchema('create', created);
    expect(created.expires_at).toBe(expiresAt);
    const found = await stripe.apps.secrets.find({ name: 'soon', scope: ACCOUNT });
    assertMatchesSchema('find', found);
    expect(found.expires_at).toBe(expiresAt);
  });

  it('gives every secret a distinct id', async () => {
    const stripe = client('create_ids');
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const created = await stripe.apps.secrets.create({ name: `n${i}`, payload: 'p', scope: ACCOUNT });
      assertMatchesSchema('create', created);
      expect(created.id).toMatch(SECRET_ID);
      ids.add(created.id);
    }
    expect(ids.size).toBe(5);
  });
});

describe('find', () => {
  it('returns the secret without its payload unless expanded, and exactly the payload when expanded', async () => {
    const stripe = client('find');
    const created = await stripe.apps.secrets.create({ name: 'db-password', payload: 'hunter2', scope: ACCOUNT });
    assertMatchesSchema('create', created);
    const plain = await stripe.apps.secrets.find({ name: 'db-password', scope: ACCOUNT });
    assertMatchesSchema('find', plain);
    expect('payload' in plain).toBe(false);
    const { lastResponse: _l1, ...plainBody } = plain;
    const { lastResponse: _l2, ...createdBody } = created;
    expect(plainBody).toEqual(createdBody);
    const expanded = await stripe.apps.secrets.find({ name: 'db-password', scope: ACCOUNT, expand: ['payload'] });
    assertMatchesSchema('find', expanded);
    expect(expanded.payload).toBe('hunter2');
    expect(expanded.id).toBe(created.id);
    expect(expanded.created).toBe(created.created);
  });

  const payloads: ReadonlyArray<readonly [string, string]> = [
    ['unicode', 'héllo wörld ✓ 日本語 🔑👩‍👩‍👧 Ω'],
    ['plus', 'a+b++c+'],
    ['ampersand and equals', 'a=1&b=2&c==&&'],
    ['percent', '100% %20 %2B %zz %'],
    ['spaces', '  leading and trailing spaces  '],
    ['form syntax', 'scope[type]=user&expand[]=payload'],
    ['line breaks and tabs', 'line1\nline2\r\n\tend'],
    ['quotes and backslashes', `"double" 'single' \\ / <tag> \`tick\``],
    ['5000 characters', `${'x'.repeat(4999)}y`],
    ['5000 code points, some astral', `${'é'.repeat(2500)}${'🔐'.repeat(2500)}`],
  ];

  for (const [label, payload] of payloads) {
    it(`round-trips a payload with ${label}`, async () => {
      const stripe = client('payload');
      const created = await stripe.apps.secrets.create({ name: 'p', payload, scope: ACCOUNT, expand: ['payload'] });
      assertMatchesSchema('create', created);
      expect(created.payload).toBe(payload);
      const found = await stripe.apps.secrets.find({ name: 'p', scope: ACCOUNT, expand: ['payload'] });
      assertMatchesSchema('find', found);
      expect(found.payload).toBe(payload);
      expect(found.id).toBe(created.id);
    });
  }

  it('rejects a payload one code point over 5000', async () => {
    const stripe = client('payload_long');
    await expectStripeError(stripe.apps.secrets.create({ name: 'p', payload: 'x'.repeat(5001), scope: ACCOUNT }), {
      type: 'StripeInvalidRequestError',
      statusCode: 400,
      code: undefined,
      param: 'payload',
    });
    await expectStripeError(stripe.apps.secrets.find({ name: 'p', scope: ACCOUNT }), {
      type: 'StripeInvalidRequestError',
      statusCode: 404,
      code: 'resource_missing',
    });
  });

  it('finds secrets whose names need encoding, each under its own name', async () => {
    const stripe = client('names');
    const names = ['with space', 'a+b', 'a b', 'k=v&x=y', '100%', 'ünï/cødé ✓', 'scope[type]'];
    for (const name of names) {
      const created = await stripe.apps.secrets.create({ name, payload: `payload of ${name}`, scope: ACCOUNT });
      assertMatchesSchema('create', created);
      expect(created.name).toBe(name);
    }
    for (const name of names) {
      const found = await stripe.apps.secrets.find({ name, scope: ACCOUNT, expand: ['payload'] });
      assertMatchesSchema('find', found);
      expect(found.name).toBe(name);
      expect(found.payload).toBe(`payload of ${name}`);
    }
    const list = await stripe.apps.secrets.list({ scope: ACCOUNT });
    assertMatchesSchema('list', list);
    expect(list.data.map((s) => s.name).sort()).toEqual([...names].sort());
  });
});

describe('replace (the same name and scope again)', () => {
  it('makes a new secret: new id, created not earlier, the new payload, and only one secret', async () => {
    const stripe = client('replace');
    const first = await stripe.apps.secrets.create({ name: 'token', payload: 'old', scope: ACCOUNT });
    assertMatchesSchema('create', first);
    const second = await stripe.apps.secrets.create({ name: 'token', payload: 'new', scope: ACCOUNT });
    assertMatchesSchema('create', second);
    expect(second.id).toMatch(SECRET_ID);
    expect(second.id).not.toBe(first.id);
    expect(second.created).toBeGreaterThanOrEqual(first.created);
    expect(second.name).toBe('token');
    const found = await stripe.apps.secrets.find({ name: 'token', scope: ACCOUNT, expand: ['payload'] });
    assertMatchesSchema('find', found);
    expect(found.payload).toBe('new');
    expect(found.id).toBe(second.id);
    const list = await stripe.apps.secrets.list({ scope: ACCOUNT });
    assertMatchesSchema('list', list);
    expect(list.data.map((s) => s.id)).toEqual([second.id]);
  });

  it('clears an earlier expires_at when the replacing request omits it (G1)', async () => {
    const stripe = client('replace_expiry');
    const expiresAt = server.clock.now() + 3600;
    const first = await stripe.apps.secrets.create({ name: 'e', payload: '1', scope: ACCOUNT, expires_at: expiresAt });
    assertMatchesSchema('create', first);
    expect(first.expires_at).toBe(expiresAt);
    const second = await stripe.apps.secrets.create({ name: 'e', payload: '2', scope: ACCOUNT });
    assertMatchesSchema('create', second);
    expect(second.expires_at).toBeNull();
    const found = await stripe.apps.secrets.find({ name: 'e', scope: ACCOUNT });
    assertMatchesSchema('find', found);
    expect(found.expires_at).toBeNull();
  });

  it('sets the expires_at of the replacing request', async () => {
    const stripe = client('replace_expiry2');
    const first = await stripe.apps.secrets.create({ name: 'e', payload: '1', scope: ACCOUNT });
    assertMatchesSchema('create', first);
    const expiresAt = server.clock.now() + 7200;
    const second = await stripe.apps.secrets.create({ name: 'e', payload: '2', scope: ACCOUNT, expires_at: expiresAt });
    assertMatchesSchema('create', second);
    expect(second.expires_at).toBe(expiresAt);
    const found = await stripe.apps.secrets.find({ name: 'e', scope: ACCOUNT });
    assertMatchesSchema('find', found);
    expect(found.expires_at).toBe(expiresAt);
  });

  it('works when the scope already holds the maximum of 10 secrets', async () => {
    const stripe = client('replace_cap');
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const created = await stripe.apps.secrets.create({ name: `s${i}`, payload: `v${i}`, scope: ACCOUNT });
      assertMatchesSchema('create', created);
      ids.push(created.id);
    }
    const replaced = await stripe.apps.secrets.create({
      name: 's3',
      payload: 'replaced',
      scope: ACCOUNT,
      expand: ['payload'],
    });
    assertMatchesSchema('create', replaced);
    expect(replaced.payload).toBe('replaced');
    expect(replaced.id).not.toBe(ids[3]);
    const found = await stripe.apps.secrets.find({ name: 's3', scope: ACCOUNT, expand: ['payload'] });
    assertMatchesSchema('find', found);
    expect(found.payload).toBe('replaced');
    const list = await stripe.apps.secrets.list({ scope: ACCOUNT, limit: 100 });
    assertMatchesSchema('list', list);
    expect(list.data).toHaveLength(10);
    expect(list.data.map((s) => s.name).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `s${i}`).sort());
    // The replaced secret is the newest now.
    expect(list.data[0]?.id).toBe(replaced.id);
  });

  it('does not touch a secret of the same name in another scope', async () => {
    const stripe = client('replace_scope');
    const user = { type: 'user', user: 'usr_Replace1' } as const;
    const inAccount = await stripe.apps.secrets.create({ name: 'same', payload: 'account', scope: ACCOUNT });
    assertMatchesSchema('create', inAccount);
    const inUser = await stripe.apps.secrets.create({ name: 'same', payload: 'user', scope: user });
    assertMatchesSchema('create', inUser);
    const found = await stripe.apps.secrets.find({ name: 'same', scope: ACCOUNT, expand: ['payload'] });
    assertMatchesSchema('find', found);
    expect(found.id).toBe(inAccount.id);
    expect(found.payload).toBe('account');
  });
});

describe('deleteWhere', () => {
  it('returns the secret with deleted: true and no payload, after which find is a 404', async () => {
    const stripe = client('delete');
    const created = await stripe.apps.secrets.create({ name: 'gone-soon', payload: 'p', scope: ACCOUNT });
    assertMatchesSchema('create', created);
    const deleted = await stripe.apps.secrets.deleteWhere({ name: 'gone-soon', scope: ACCOUNT });
    assertMatchesSchema('delete', deleted);
    expect(deleted.deleted).toBe(true);
    expect(deleted.id).toBe(created.id);
    expect(deleted.object).toBe('apps.secret');
    expect(deleted.name).toBe('gone-soon');
    expect(deleted.scope).toEqual({ type: 'account' });
    expect('payload' in deleted).toBe(false);
    const err = await expectStripeError(stripe.apps.secrets.find({ name: 'gone-soon', scope: ACCOUNT }), {
      type: 'StripeInvalidRequestError',
      statusCode: 404,
      code: 'resource_missing',
      param: 'name',
      message: "No such secret: 'gone-soon'",
    });
    expect(err.requestId?.startsWith('req_')).toBe(true);
    const list = await stripe.apps.secrets.list({ scope: ACCOUNT });
    assertMatchesSchema('list', list);
    expect(list.data).toEqual([]);
  });

  it('never returns the payload, even when expand: [payload] is asked for (G3)', async () => {
    const stripe = client('delete_expand');
    await stripe.apps.secrets.create({ name: 'x', payload: 'hidden', scope: ACCOUNT });
    const deleted = await stripe.apps.secrets.deleteWhere({ name: 'x', scope: ACCOUNT, expand: ['payload'] });
    assertMatchesSchema('delete', deleted);
    expect(deleted.deleted).toBe(true);
    expect(deleted.payload ?? undefined).toBeUndefined();
    expect(JSON.stringify(deleted)).not.toContain('hidden');
  });

  it('deletes only in the given scope', async () => {
    const stripe = client('delete_scope');
    const user = { type: 'user', user: 'usr_Delete1' } as const;
    await stripe.apps.secrets.create({ name: 'both', payload: 'a', scope: ACCOUNT });
    const inUser = await stripe.apps.secrets.create({ name: 'both', payload: 'u', scope: user });
    const deleted = await stripe.apps.secrets.deleteWhere({ name: 'both', scope: ACCOUNT });
    assertMatchesSchema('delete', deleted);
    const still = await stripe.apps.secrets.find({ name: 'both', scope: user, expand: ['payload'] });
    assertMatchesSchema('find', still);
    expect(still.id).toBe(inUser.id);
    expect(still.payload).toBe('u');
  });

  it('is a 404 for a name that does not exist, or was already deleted', async () => {
    const stripe = client('delete_missing');
    await expectStripeError(stripe.apps.secrets.deleteWhere({ name: 'never', scope: ACCOUNT }), {
      type: 'StripeInvalidRequestError',
      statusCode: 404,
      code: 'resource_missing',
      param: 'name',
      message: "No such secret: 'never'",
    });
    await stripe.apps.secrets.create({ name: 'once', payload: 'p', scope: ACCOUNT });
    assertMatchesSchema('delete', await stripe.apps.secrets.deleteWhere({ name: 'once', scope: ACCOUNT }));
    await expectStripeError(stripe.apps.secrets.deleteWhere({ name: 'once', scope: ACCOUNT }), {
      type: 'StripeInvalidRequestError',
      statusCode: 404,
      code: 'resource_missing',
      param: 'name',
      message: "No such secret: 'once'",
    });
  });

  it('lets the name be set again afterwards, as a new secret', async () => {
    const stripe = client('delete_again');
    const first = await stripe.apps.secrets.create({ name: 'again', payload: 'one', scope: ACCOUNT });
    await stripe.apps.secrets.deleteWhere({ name: 'again', scope: ACCOUNT });
    const second = await stripe.apps.secrets.create({ name: 'again', payload: 'two', scope: ACCOUNT });
    assertMatchesSchema('create', second);
    expect(second.id).not.toBe(first.id);
    const found = await stripe.apps.secrets.find({ name: 'again', scope: ACCOUNT, expand: ['payload'] });
    assertMatchesSchema('find', found);
    expect(found.payload).toBe('two');
  });
});
