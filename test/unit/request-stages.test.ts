/**
 * The stages of the request path before execution (see src/http/build-app.ts), each on a real
 * IncomingMessage and, where a stage reads the database, on the real stores over SQLite `:memory:`:
 * what each sets on the request's context, and the error it answers with.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENDPOINTS } from '../../src/http/build-app.js';
import { RateLimiter } from '../../src/http/rate-limiter.js';
import type { RequestContext, Stage } from '../../src/http/request-context.js';
import { authenticate } from '../../src/http/stages/authenticate.js';
import { authorize } from '../../src/http/stages/authorize.js';
import { idempotency } from '../../src/http/stages/idempotency.js';
import { parseCommand } from '../../src/http/stages/parse-command.js';
import { DEFAULT_LIMITS, readParams } from '../../src/http/stages/read-params.js';
import { route } from '../../src/http/stages/route.js';
import { stripeHeaders } from '../../src/http/stages/stripe-headers.js';
import { emulatedPlatformOf, generateApiKey, KeyAuthority } from '../../src/keys/api-keys.js';
import { type MemoryStore, openMemoryStore } from '../support/memory-store.js';
import { apiErrorOf } from '../support/rejection.js';
import { type RequestInit, requestContext, runStages, stagesBeforeExecute } from '../support/request-context.js';

let m: MemoryStore;
beforeEach(async () => {
  m = await openMemoryStore();
});
afterEach(() => m.close());

const KEY = 'sk_test_stages';
const FORM = { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/x-www-form-urlencoded' };
const keys = () => new KeyAuthority(m.stores.apiKeys, { emulator: true });
/** The request path's stages in order; a test runs those before the one it tests, then that one. */
const STAGES = ['route', 'stripeHeaders', 'authenticate', 'readParams', 'parseCommand', 'authorize', 'idempotency'];
const pathBefore = (name: string): Stage[] => stagesBeforeExecute(keys()).slice(0, STAGES.indexOf(name));
const through = (name: string, stage: Stage, method: string, target: string, init: RequestInit = {}) =>
  runStages(requestContext(method, target, { headers: FORM, ...init }), [...pathBefore(name), stage]);

describe('route', () => {
  it('finds the endpoint of each method and path, and names its operation', async () => {
    for (const [method, path, operation] of [
      ['POST', '/v1/apps/secrets', 'apps.secret.create'],
      ['GET', '/v1/apps/secrets', 'apps.secret.list'],
      ['GET', '/v1/apps/secrets/find', 'apps.secret.find'],
      ['POST', '/v1/apps/secrets/delete', 'apps.secret.delete'],
    ] as const) {
      const context = requestContext(method, `${path}?x=1`);
      await route(ENDPOINTS)(context);
      expect(context.endpoint.path).toBe(path);
      expect(context.record.operation).toBe(operation);
    }
  });

  it("answers any other method or path with Stripe's 404 for an unknown URL", async () => {
    for (const [method, path] of [
      ['GET', '/v1/apps/secrets/delete'],
      ['DELETE', '/v1/apps/secrets'],
      ['GET', '/v1/apps/secrets/'],
      ['GET', '/v1/customers'],
    ] as const) {
      const error = await apiErrorOf(() => route(ENDPOINTS)(requestContext(method, path)));
      expect(error).toMatchObject({ status: 404, reason: 'url_unrecognized', code: undefined });
      expect(error.message).toContain(`${method}: ${path}`);
    }
  });
});

describe('Stripe headers', () => {
  const read = (method: string, headers: Record<string, string>) =>
    requestContext(method, '/v1/apps/secrets', { headers }).stripe;

  it('are read once: the account named (the last of a Stripe-Context path) and, on a POST, the idempotency key', () => {
    expect(read('POST', { 'Stripe-Account': 'acct_Conn1', 'Idempotency-Key': 'k1' })).toMatchObject({
      account: 'acct_Conn1',
      accountHeader: 'Stripe-Account',
      idempotencyKey: 'k1',
    });
    expect(read('GET', { 'Idempotency-Key': 'k1' }).idempotencyKey).toBeUndefined();
    expect(read('GET', { 'Stripe-Context': 'acct_A/acct_B', 'Stripe-Account': 'acct_C' })).toMatchObject({
      account: 'acct_B',
      accountHeader: 'Stripe-Context',
    });
    expect(read('GET', { 'Stripe-Account': 'acct_; drop' }).account).toBeUndefined();
  });

  it('refuse an API version that does not exist with 400, and let a real one through', async () => {
    const stage = (version: string) => () =>
      stripeHeaders(requestContext('GET', '/', { headers: { 'Stripe-Version': version } }));
    expect(await apiErrorOf(stage('latest'))).toMatchObject({ status: 400, reason: 'api_version_invalid' });
    stage('2024-06-20')();
  });
});

describe('authenticate', () => {
  it('takes an unregistered test key as its own platform in emulator mode', async () => {
    const context = await through('authenticate', authenticate(keys(), undefined), 'GET', '/v1/apps/secrets', {
      headers: { Authorization: `Bearer ${KEY}`, 'Stripe-Account': 'acct_Conn1' },
    });
    expect(context.principal).toMatchObject({ keyId: null, platform: emulatedPlatformOf(KEY), livemode: false });
    expect(context.record).toMatchObject({ keyId: null, platform: emulatedPlatformOf(KEY), account: 'acct_Conn1' });
  });

  it('takes a registered key as its record says, and refuses it once revoked', async () => {
    const { key, record } = generateApiKey({
      livemode: true,
      platform: 'acct_Team',
      user: 'usr_1',
      now: m.clock.now(),
    });
    await m.stores.apiKeys.insert(record);
    const stage = authenticate(keys(), undefined);
    const context = await through('authenticate', stage, 'GET', '/v1/apps/secrets', {
      headers: { Authorization: `Bearer ${key}` },
    });
    expect(context.principal).toEqual({
      keyId: record.id,
      platform: 'acct_Team',
      livemode: true,
      user: 'usr_1',
      caller: record.id,
    });
    expect(context.record).toMatchObject({ keyId: record.id, livemode: true, account: 'acct_Team' });
    await m.stores.apiKeys.revoke(record.id, m.clock.now());
    const revoked = await apiErrorOf(
      through('authenticate', stage, 'GET', '/v1/apps/secrets', { headers: { Authorization: `Bearer ${key}` } }),
    );
    expect(revoked).toMatchObject({ status: 401, reason: 'api_key_expired' });
    expect(revoked.message).not.toContain(key);
  });

  it('refuses a missing, malformed or unregistered live key with 401', async () => {
    const stage = authenticate(keys(), undefined);
    for (const [authorization, code] of [
      [undefined, 'api_key_missing'],
      ['Token abc', 'api_key_invalid'],
      ['Bearer sk_live_notregistered', 'api_key_invalid'],
      ['Bearer pk_test_123', 'api_key_invalid'],
    ] as const) {
      const headers: Record<string, string> = authorization ? { Authorization: authorization } : {};
      const error = await apiErrorOf(through('authenticate', stage, 'GET', '/v1/apps/secrets', { headers }));
      expect(error, authorization).toMatchObject({ status: 401, reason: code });
    }
  });

  it("refuses a malformed account header with Stripe's 403 naming the key, masked", async () => {
    const error = await apiErrorOf(
      through('authenticate', authenticate(keys(), undefined), 'GET', '/v1/apps/secrets', {
        headers: { Authorization: `Bearer ${KEY}`, 'Stripe-Account': 'acct_; drop' },
      }),
    );
    expect(error).toMatchObject({ status: 403, code: 'account_invalid' });
    expect(error.message).not.toContain(KEY);
  });

  it('refuses unregistered test keys when emulator mode is off', async () => {
    const stage = authenticate(new KeyAuthority(m.stores.apiKeys, { emulator: false }), undefined);
    expect(await apiErrorOf(through('authenticate', stage, 'GET', '/v1/apps/secrets'))).toMatchObject({ status: 401 });
  });

  it("applies the rate limit per platform and mode, on the server's clock", async () => {
    const stage = authenticate(keys(), new RateLimiter({ testPerSecond: 2, livePerSecond: 2 }, m.clock.nowMs));
    const call = (key: string) =>
      through('authenticate', stage, 'GET', '/v1/apps/secrets', { headers: { Authorization: `Bearer ${key}` } });
    await call(KEY);
    await call(KEY);
    expect(await apiErrorOf(call(KEY))).toMatchObject({ status: 429, reason: 'rate_limit' });
    await call('sk_test_other');
    m.clock.advanceMs(500);
    await call(KEY);
    expect(await apiErrorOf(call(KEY))).toMatchObject({ status: 429 });
  });
});

describe('read params', () => {
  const stage = readParams(DEFAULT_LIMITS);

  it('reads the query of a GET and the query and body of a POST, the body winning a clash', async () => {
    const get = await through('readParams', stage, 'GET', '/v1/apps/secrets/find?name=a&scope[type]=account');
    expect(get.params).toEqual({ name: 'a', scope: { type: 'account' } });
    const post = await through('readParams', stage, 'POST', '/v1/apps/secrets?name=query&payload=q', {
      body: [Buffer.from('name=bo'), Buffer.from('dy&scope[type]=user&scope[user]=usr_1')],
    });
    expect(post.params).toEqual({ name: 'body', payload: 'q', scope: { type: 'user', user: 'usr_1' } });
  });

  it('refuses a body over the limit, declared or streamed, with 413', async () => {
    const small = readParams({ ...DEFAULT_LIMITS, maxBodyBytes: 1024 });
    const declared = await apiErrorOf(
      through('readParams', small, 'POST', '/v1/apps/secrets', { headers: { ...FORM, 'Content-Length': '1025' } }),
    );
    expect(declared).toMatchObject({ status: 413, reason: 'request_too_large' });
    const streamed = await apiErrorOf(
      through('readParams', small, 'POST', '/v1/apps/secrets', {
        body: [Buffer.alloc(1000, 'a'), Buffer.alloc(25, 'a')],
      }),
    );
    expect(streamed).toMatchObject({ status: 413 });
    const exact = await through('readParams', small, 'POST', '/v1/apps/secrets', {
      body: `payload=${'a'.repeat(1016)}`,
    });
    expect((exact.params.payload as string).length).toBe(1016);
  });

  it('refuses a body of another content type, bad encodings and too many parameters with 400', async () => {
    const json = { ...FORM, 'Content-Type': 'application/json' };
    expect(
      await apiErrorOf(through('readParams', stage, 'POST', '/v1/apps/secrets', { headers: json, body: '{}' })),
    ).toMatchObject({
      reason: 'content_type_invalid',
    });
    // An empty body carries no parameters, whatever its declared type.
    await through('readParams', stage, 'POST', '/v1/apps/secrets?name=n', { headers: json, body: '' });
    expect(
      await apiErrorOf(
        through('readParams', stage, 'POST', '/v1/apps/secrets', { body: [Buffer.from([0x6e, 0x3d, 0xc3, 0x28])] }),
      ),
    ).toMatchObject({
      reason: 'encoding_invalid',
    });
    expect(await apiErrorOf(through('readParams', stage, 'GET', '/v1/apps/secrets?name=%zz'))).toMatchObject({
      reason: 'encoding_invalid',
    });
    const many = Array.from({ length: 257 }, (_, i) => `p${i}=1`).join('&');
    expect(await apiErrorOf(through('readParams', stage, 'GET', `/v1/apps/secrets?${many}`))).toMatchObject({
      reason: 'parameters_too_many',
    });
  });
});

describe('parse command', () => {
  it("makes the endpoint's command, its target and the owner (the connected account when named)", async () => {
    const context = await through('parseCommand', parseCommand, 'POST', '/v1/apps/secrets', {
      headers: { ...FORM, 'Stripe-Account': 'acct_Conn1' },
      body: 'name=n&payload=p&scope[type]=user&scope[user]=usr_1&expand[]=payload',
    });
    expect(context.command).toEqual({
      input: { name: 'n', payload: 'p', scope: { type: 'user', user: 'usr_1' } },
      withPayload: true,
    });
    expect(context.target).toEqual({ scope: { type: 'user', user: 'usr_1' }, name: 'n' });
    expect(context.owner).toEqual({
      platform: emulatedPlatformOf(KEY),
      account: 'acct_Conn1',
      livemode: false,
      boundUser: null,
    });
    expect(context.record.target).toEqual({ scopeType: 'user', scopeUser: 'usr_1', name: 'n' });
    expect(context.isAudited).toBe(true);
    const list = await through('parseCommand', parseCommand, 'GET', '/v1/apps/secrets?scope[type]=account');
    expect(list.record.target).toEqual({ scopeType: 'account', scopeUser: null, name: null });
    expect(list.isAudited).toBe(false);
  });

  it("answers the endpoint's validation errors, naming the parameter", async () => {
    const error = await apiErrorOf(
      through('parseCommand', parseCommand, 'POST', '/v1/apps/secrets', { body: 'payload=p&scope[type]=account' }),
    );
    expect(error).toMatchObject({ status: 400, reason: 'parameter_missing', param: 'name' });
  });
});

describe('authorize', () => {
  const bound = async (target: string) => {
    const { key, record } = generateApiKey({ livemode: false, platform: 'acct_B', user: 'usr_me', now: m.clock.now() });
    await m.stores.apiKeys.insert(record);
    return through('authorize', authorize, 'GET', target, { headers: { Authorization: `Bearer ${key}` } });
  };

  it("refuses a user-bound key another user's scope with 403, before anything is read", async () => {
    expect(await apiErrorOf(bound('/v1/apps/secrets?scope[type]=user&scope[user]=usr_other'))).toMatchObject({
      status: 403,
      reason: 'secret_access_denied',
      param: 'scope[user]',
    });
    await bound('/v1/apps/secrets?scope[type]=user&scope[user]=usr_me');
    await bound('/v1/apps/secrets?scope[type]=account');
  });
});

describe('idempotency', () => {
  const post = (body: string, headers: Record<string, string>) =>
    through('idempotency', idempotency, 'POST', '/v1/apps/secrets', { headers: { ...FORM, ...headers }, body });

  it('prepares the record of a POST with a key: owner, key, request and fingerprint of the parameters', async () => {
    const a = (await post('name=n&payload=p&scope[type]=account', { 'Idempotency-Key': 'k1' })) as RequestContext;
    expect(a.idempotent).toMatchObject({ key: 'k1', requestId: a.record.requestId });
    expect(a.idempotent?.owner).toContain(emulatedPlatformOf(KEY));
    const reordered = await post('scope[type]=account&payload=p&name=n', { 'Idempotency-Key': 'k1' });
    expect(reordered.idempotent?.fingerprint).toBe(a.idempotent?.fingerprint);
    const otherAccount = await post('name=n&payload=p&scope[type]=account', {
      'Idempotency-Key': 'k1',
      'Stripe-Account': 'acct_Conn1',
    });
    expect(otherAccount.idempotent?.fingerprint).not.toBe(a.idempotent?.fingerprint);
    expect((await post('name=n&payload=p&scope[type]=account', {})).idempotent).toBeUndefined();
  });

  it('refuses a key over 255 characters or with bytes outside printable ASCII', async () => {
    await post('name=n&payload=p&scope[type]=account', { 'Idempotency-Key': 'k'.repeat(255) });
    for (const key of ['k'.repeat(256), 'tab\there']) {
      const error = await apiErrorOf(post('name=n&payload=p&scope[type]=account', { 'Idempotency-Key': key }));
      expect(error).toMatchObject({ status: 400, reason: 'idempotency_key_invalid' });
    }
  });
});
