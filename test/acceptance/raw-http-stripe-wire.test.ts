/**
 * Stripe's wire over raw HTTP, where it goes beyond parameters: `Stripe-Context`, API versions,
 * `Original-Request`, the bytes of a body, and which error answers keep the connection. Each case
 * cites, in one line, where Stripe's behaviour was seen (a doc page, or a public issue quoting a real
 * Stripe answer).
 */
import { describe, expect, it } from 'vitest';
import { STRIPE_API_VERSIONS } from '../../src/http/stripe-api-versions.js';
import { call, expectApiError, expectOk, fromRawReply, REQUEST_ID } from '../support/api-assertions.js';
import { bearer, form, serverForFile } from '../support/in-process-server.js';
import { exchangeKeptAlive, keptRequest } from '../support/raw-http.js';

const server = serverForFile();

const SCOPE = 'scope[type]=account';
const list = (key: string, headers: Record<string, string> = {}) =>
  call(server, 'GET', `/v1/apps/secrets?${SCOPE}`, { headers: { ...bearer(key), ...headers } });
const create = (key: string, name: string, headers: Record<string, string> = {}) =>
  call(server, 'POST', '/v1/apps/secrets', {
    headers: { ...form(key), ...headers },
    body: `name=${name}&payload=p&${SCOPE}`,
  });
const namesIn = async (key: string, headers: Record<string, string> = {}) =>
  expectOk<{ data: { name: string }[] }>(await list(key, headers), 'list').data.map((s) => s.name);

describe('Stripe-Context', () => {
  // docs.stripe.com/context: "The Stripe-Context header supersedes the Stripe-Account header"; a connected account is `acct_...`.
  it('acts on the connected account it names, the same one Stripe-Account names', async () => {
    const key = 'sk_test_context_single';
    const made = await create(key, 'via-context', { 'Stripe-Context': 'acct_1Ctx' });
    expectOk(made, 'secret');
    expect(await namesIn(key, { 'Stripe-Account': 'acct_1Ctx' })).toEqual(['via-context']);
    expect(await namesIn(key, { 'Stripe-Context': 'acct_1Ctx' })).toEqual(['via-context']);
    expect(await namesIn(key)).toEqual([]);
  });

  // docs.stripe.com/context: a grandchild is reached by the path "<connected account ID>/<recipient ID>".
  it('takes a path of accounts and acts on the last one', async () => {
    const key = 'sk_test_context_path';
    expectOk(await create(key, 'on-recipient', { 'Stripe-Context': 'acct_1Conn/acct_1Recipient' }), 'secret');
    expect(await namesIn(key, { 'Stripe-Account': 'acct_1Recipient' })).toEqual(['on-recipient']);
    expect(await namesIn(key, { 'Stripe-Account': 'acct_1Conn' })).toEqual([]);
  });

  // docs.stripe.com/context: Stripe-Context supersedes Stripe-Account, so when both are sent the context decides.
  it('wins over Stripe-Account when both are sent, even over a malformed one', async () => {
    const key = 'sk_test_context_both';
    const made = await create(key, 'context-wins', { 'Stripe-Context': 'acct_1Wins', 'Stripe-Account': 'acct_1Loses' });
    expectOk(made, 'secret');
    expect(made.headers.get('stripe-account')).toBe('acct_1Wins');
    expect(await namesIn(key, { 'Stripe-Account': 'acct_1Wins' })).toEqual(['context-wins']);
    expect(await namesIn(key, { 'Stripe-Account': 'acct_1Loses' })).toEqual([]);
    const ignored = await list(key, { 'Stripe-Context': 'acct_1Wins', 'Stripe-Account': 'not an account' });
    expect(expectOk<{ data: unknown[] }>(ignored, 'list').data).toHaveLength(1);
  });

  // stripe/stripe-cli#1871: a path header answered by api.stripe.com carried "Stripe-Account: <the last account>".
  it('is echoed as sent, with the account acted on in Stripe-Account, on successes and errors', async () => {
    const key = 'sk_test_context_echo';
    const ok = await list(key, { 'Stripe-Context': 'acct_1Plat/acct_1Echo' });
    expectOk(ok, 'list');
    expect(ok.headers.get('stripe-context')).toBe('acct_1Plat/acct_1Echo');
    expect(ok.headers.get('stripe-account')).toBe('acct_1Echo');
    const missing = await call(server, 'GET', `/v1/apps/secrets/find?name=none&${SCOPE}`, {
      headers: { ...bearer(key), 'Stripe-Context': 'acct_1Echo' },
    });
    expectApiError(missing, { status: 404, code: 'resource_missing', param: 'name' });
    expect(missing.headers.get('stripe-context')).toBe('acct_1Echo');
    expect(missing.headers.get('stripe-account')).toBe('acct_1Echo');
  });

  // Stripe's 403 for an account the key cannot reach: stripe-ruby-mock/stripe-ruby-mock#422 ("The provided key 'sk_test_***' does not have access to account 'not-an-account-id' (or that account does not exist). ...").
  it.each(['bogus', 'acct_', 'acct_1/', '/acct_1', 'acct_1//acct_2', 'acct_1/cus_2', ''])(
    'refuses the malformed value %j with 403 account_invalid, and echoes neither header',
    async (value) => {
      const res = await list('sk_test_context_bad', { 'Stripe-Context': value });
      const error = expectApiError(res, { status: 403, code: 'account_invalid' });
      expect(error.message).toBe(
        `The provided key 'sk_test_***********' does not have access to account '${value}' (or that account does not exist). Application access may have been revoked.`,
      );
      expect(res.headers.get('stripe-context')).toBeNull();
      expect(res.headers.get('stripe-account')).toBeNull();
    },
  );

  it('is checked once the key is known: without a key the answer is the 401', async () => {
    const res = await call(server, 'GET', `/v1/apps/secrets?${SCOPE}`, { headers: { 'Stripe-Context': 'bogus' } });
    expectApiError(res, { status: 401, code: undefined });
  });

  // stripe/stripe-cli#1871: api.stripe.com took "Stripe-Account: acct_platform/acct_connected" and answered for the connected one.
  it('lets Stripe-Account take the path form too', async () => {
    const key = 'sk_test_account_path';
    const made = await create(key, 'account-path', { 'Stripe-Account': 'acct_1Plat/acct_1Child' });
    expectOk(made, 'secret');
    expect(made.headers.get('stripe-account')).toBe('acct_1Child');
    expect(made.headers.get('stripe-context')).toBeNull();
    expect(await namesIn(key, { 'Stripe-Context': 'acct_1Child' })).toEqual(['account-path']);
  });
});

describe('API versions', () => {
  const NEWEST = STRIPE_API_VERSIONS.at(-1) as string;
  const day = (offsetDays: number) =>
    new Date(server.clock.nowMs() + offsetDays * 86_400_000).toISOString().slice(0, 10);

  // stripe/stripe-node#2387 ("Invalid Stripe API version: 2025-07-30", a bare date of the 2025-07-30.basil release) and pay-rails/pay#680 (2022-08-02).
  it.each(['2099-01-01', '2099-13-45', '2025-07-30', '2022-08-02', '2024-06-20.basil', '2026-10-28.Endive'])(
    "refuses %s, which is no Stripe API version, with 400 in Stripe's words and no code",
    async (version) => {
      const res = await list('sk_test_versions', { 'Stripe-Version': version });
      const error = expectApiError(res, { status: 400, code: undefined });
      expect(error.message).toBe(`Invalid Stripe API version: ${version}`);
      expect(res.headers.get('stripe-version')).toBe('2026-10-28.endive');
    },
  );

  // docs.stripe.com/upgrades lists every version; these are from the list stripe-node ships (stripe-api-versions.ts).
  it.each(['2011-01-01', '2020-08-27', '2024-09-30.acacia', '2025-03-01.dashboard', NEWEST])(
    'accepts and echoes the published version %s',
    async (version) => {
      const res = await list('sk_test_versions', { 'Stripe-Version': version });
      expectOk(res, 'list');
      expect(res.headers.get('stripe-version')).toBe(version);
    },
  );

  // npm stripe-search-beta: beta SDKs send "2020-08-27;search_api_beta=v1" as the version.
  it('accepts a published version with beta flags, and echoes it whole', async () => {
    for (const version of ['2020-08-27;search_api_beta=v1', '2024-06-20; feature_beta=v2']) {
      const res = await list('sk_test_versions', { 'Stripe-Version': version });
      expectOk(res, 'list');
      expect(res.headers.get('stripe-version')).toBe(version);
    }
    expectApiError(await list('sk_test_versions', { 'Stripe-Version': '2020-08-27;drop' }), {
      status: 400,
      code: undefined,
    });
  });

  // docs.stripe.com/api-versions: releases since 2024-09-30.acacia are monthly and named; a newer SDK sends one this list lacks.
  it("accepts a named release newer than the list, dated up to the server's today, and not later", async () => {
    const today = `${day(0)}.zinnia`;
    const tomorrow = `${day(1)}.zinnia`;
    expect(today > NEWEST).toBe(true);
    const ok = await list('sk_test_versions', { 'Stripe-Version': today });
    expectOk(ok, 'list');
    expect(ok.headers.get('stripe-version')).toBe(today);
    expectApiError(await list('sk_test_versions', { 'Stripe-Version': tomorrow }), { status: 400, code: undefined });
    expectApiError(await list('sk_test_versions', { 'Stripe-Version': day(0) }), { status: 400, code: undefined });
    server.clock.advance(86_400);
    expectOk(await list('sk_test_versions', { 'Stripe-Version': tomorrow }), 'list');
  });
});

describe('Original-Request', () => {
  // Raw api.stripe.com answers quoted in public repos: POST /v1/products "Original-Request: req_vxpJMdF6rbceJq" beside "Request-Id: req_vxpJMdF6rbceJq"; a replay's names the first call.
  it('is on every POST answer, equal to Request-Id on a first execution and on errors', async () => {
    const key = 'sk_test_original';
    const made = await create(key, 'orig', { 'Idempotency-Key': 'orig-1' });
    expectOk(made, 'secret');
    const first = made.headers.get('request-id');
    expect(first).toMatch(REQUEST_ID);
    expect(made.headers.get('original-request')).toBe(first);
    const replay = await create(key, 'orig', { 'Idempotency-Key': 'orig-1' });
    expect(replay.headers.get('original-request')).toBe(first);
    expect(replay.headers.get('request-id')).not.toBe(first);
    const refused = await call(server, 'POST', '/v1/apps/secrets', { headers: form(key), body: 'name=x' });
    expectApiError(refused, { status: 400, code: 'parameter_missing', param: 'payload' });
    expect(refused.headers.get('original-request')).toBe(refused.headers.get('request-id'));
    const unauthenticated = await call(server, 'POST', '/v1/apps/secrets', { body: 'name=x' });
    expect(unauthenticated.headers.get('original-request')).toBe(unauthenticated.headers.get('request-id'));
  });

  it('is not on GET answers', async () => {
    const res = await list('sk_test_original');
    expectOk(res, 'list');
    expect(res.headers.get('original-request')).toBeNull();
  });
});

describe("Stripe's bytes", () => {
  // stripe/stripe-mock#312: api.stripe.com's 404 is two-space-indented JSON ending in a newline (Content-Length 361 counts it).
  it('pretty-prints objects and lists, with the keys in the order api.stripe.com sends them', async () => {
    const key = 'sk_test_bytes';
    const made = await create(key, 'bytes');
    expect(made.text).toBe(`${JSON.stringify(made.json, null, 2)}\n`);
    expect(Object.keys(made.json as object)).toEqual([
      'id',
      'object',
      'created',
      'expires_at',
      'livemode',
      'name',
      'scope',
    ]);
    // YumaInaura/YumaInaura#2796: a list in a raw api.stripe.com body reads object, data, has_more, (total_count,) url.
    const listed = await list(key);
    expect(listed.text).toBe(`${JSON.stringify(listed.json, null, 2)}\n`);
    expect(Object.keys(listed.json as object)).toEqual(['object', 'data', 'has_more', 'url']);
  });

  // stripe/stripe-cli#585: a raw error body reads code, doc_url, message, param, type.
  it('writes error keys in alphabetical order, with doc_url only beside a code', async () => {
    const coded = await call(server, 'GET', `/v1/apps/secrets/find?name=none&${SCOPE}`, { headers: bearer() });
    expect(Object.keys((coded.json as { error: object }).error)).toEqual([
      'code',
      'doc_url',
      'message',
      'param',
      'type',
    ]);
    expect((coded.json as { error: { doc_url: string } }).error.doc_url).toBe(
      'https://stripe.com/docs/error-codes/resource-missing',
    );
    const uncoded = await call(server, 'GET', '/v1/customers', { headers: bearer() });
    expect(Object.keys((uncoded.json as { error: object }).error)).toEqual(['message', 'type']);
    expect(uncoded.text).toBe(`${JSON.stringify(uncoded.json, null, 2)}\n`);
  });
});

describe('connections after an error answer', () => {
  const AUTH: [string, string] = ['Authorization', 'Bearer sk_test_keep_alive'];
  const FORM: [string, string] = ['Content-Type', 'application/x-www-form-urlencoded'];
  const listRequest = keptRequest('GET', `/v1/apps/secrets?${SCOPE}`, [AUTH]);

  // RFC 9112 §9.3: HTTP/1.1 connections persist unless a side closes them; an answer read in full leaves nothing to discard.
  it('keeps the connection after errors to GETs without a body (404, 401, 400, 403)', async () => {
    const errors = [
      keptRequest('GET', `/v1/apps/secrets/find?name=none&${SCOPE}`, [AUTH]),
      keptRequest('GET', `/v1/apps/secrets?${SCOPE}`, []),
      keptRequest('GET', '/v1/apps/secrets?scope[type]=team', [AUTH]),
      keptRequest('GET', `/v1/apps/secrets?${SCOPE}`, [AUTH, ['Stripe-Context', 'bogus']]),
      keptRequest('GET', '/v1/customers', [AUTH]),
    ];
    const replies = await exchangeKeptAlive(server.port, [...errors, listRequest]);
    expect(replies.map((r) => r.reply.status)).toEqual([404, 401, 400, 403, 404, 200]);
    expect(replies.map((r) => r.closed)).toEqual([false, false, false, false, false, false]);
    expectOk(fromRawReply((replies.at(-1) as { reply: Parameters<typeof fromRawReply>[0] }).reply), 'list');
  });

  it('keeps the connection after an error to a POST whose body was read', async () => {
    const refused = keptRequest('POST', '/v1/apps/secrets', [AUTH, FORM], 'name=n');
    const replies = await exchangeKeptAlive(server.port, [refused, listRequest]);
    expect(replies.map((r) => [r.reply.status, r.closed])).toEqual([
      [400, false],
      [200, false],
    ]);
  });

  it('closes it after an error that leaves an announced body unread', async () => {
    const unauthenticated = keptRequest('POST', '/v1/apps/secrets', [FORM], 'name=n&payload=p');
    const replies = await exchangeKeptAlive(server.port, [unauthenticated, listRequest]);
    expect(replies).toHaveLength(1);
    expect(replies[0]?.reply.status).toBe(401);
    expect(replies[0]?.closed).toBe(true);
    expect(replies[0]?.reply.headers.connection).toBe('close');
    const getWithBody = keptRequest('GET', '/v1/customers', [AUTH], 'x=1');
    const after = await exchangeKeptAlive(server.port, [getWithBody, listRequest]);
    expect(after.map((r) => [r.reply.status, r.closed])).toEqual([[404, true]]);
  });
});
