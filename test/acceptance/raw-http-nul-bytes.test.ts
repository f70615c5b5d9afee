/**
 * A NUL character (U+0000) in any parameter: a 400 naming the parameter, before anything is stored
 * or looked up, the same on both engines (PostgreSQL text cannot hold it, SQLite can). Sent raw,
 * percent-encoded and through the official SDK; the stored data is unchanged afterwards.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { call, expectApiError } from '../support/api-assertions.js';
import { bearer, form, serverForFile } from '../support/in-process-server.js';
import { expectStripeError } from '../support/sdk.js';

const server = serverForFile();
const KEY = 'sk_test_nul';
const USER = { type: 'user', user: 'usr_1' } as const;
const ACCOUNT = { type: 'account' } as const;

const invalidString = (param: string) => ({ status: 400, code: undefined, param });

/** Everything stored under the key, as the API lists it, payloads included. */
async function snapshot(): Promise<string> {
  const stripe = server.stripe(KEY);
  const pages = await Promise.all(
    [ACCOUNT, USER].map((scope) => stripe.apps.secrets.list({ scope, limit: 100, expand: ['data.payload'] })),
  );
  return JSON.stringify(pages.map((page) => page.data.map((s) => [s.id, s.name, s.payload, s.expires_at])));
}

let before: string;
let cursor: string;
beforeAll(async () => {
  const stripe = server.stripe(KEY);
  await stripe.apps.secrets.create({ name: 'kept', payload: 'p1', scope: ACCOUNT });
  cursor = (await stripe.apps.secrets.create({ name: 'kept', payload: 'p2', scope: USER })).id;
  before = await snapshot();
});

const POST_CASES: ReadonlyArray<readonly [string, string, string]> = [
  ['/v1/apps/secrets', 'name=a%00b&payload=p&scope[type]=account', 'name'],
  ['/v1/apps/secrets', 'name=kept&payload=p%00&scope[type]=account', 'payload'],
  ['/v1/apps/secrets', 'name=kept&payload=p&scope[type]=user&scope[user]=usr_1%00', 'scope[user]'],
  ['/v1/apps/secrets', 'name=kept&payload=p&scope[type]=acc%00ount', 'scope[type]'],
  ['/v1/apps/secrets', 'name=kept&payload=p&scope[type]=account&expand[]=payload%00', 'expand[0]'],
  ['/v1/apps/secrets', 'name=kept&payload=p&scope[type]=account&expires_at=9999999999%00', 'expires_at'],
  ['/v1/apps/secrets/delete', 'name=kept%00&scope[type]=account', 'name'],
  ['/v1/apps/secrets/delete', 'name=kept&scope[type]=user&scope[user]=%00usr_1', 'scope[user]'],
];

const GET_CASES: ReadonlyArray<readonly [string, string]> = [
  ['/v1/apps/secrets/find?name=kept%00&scope[type]=account', 'name'],
  ['/v1/apps/secrets/find?name=kept&scope[type]=user&scope[user]=usr%001', 'scope[user]'],
  ['/v1/apps/secrets/find?name=kept&scope[type]=account&expand[0]=%00', 'expand[0]'],
  ['/v1/apps/secrets?scope[type]=account&starting_after=appsecret_%00', 'starting_after'],
  ['/v1/apps/secrets?scope[type]=account&ending_before=%00', 'ending_before'],
  ['/v1/apps/secrets?scope[type]=account&limit=1%00', 'limit'],
  ['/v1/apps/secrets?scope[type]=user&scope[user]=%00', 'scope[user]'],
];

describe('a NUL character in a parameter', () => {
  it.each(POST_CASES)('POST %s with %s: 400 on %s, percent-encoded or raw', async (path, body, param) => {
    expectApiError(await call(server, 'POST', path, { headers: form(KEY), body }), invalidString(param));
    // The same byte unencoded in the body: valid UTF-8, so it reaches the parameters as it is.
    const rawBody = Buffer.from(body.replace('%00', '\0'));
    expectApiError(await call(server, 'POST', path, { headers: form(KEY), body: rawBody }), invalidString(param));
    expect(await snapshot()).toBe(before);
  });

  it.each(GET_CASES)('GET %s: 400 on %s', async (path, param) => {
    expectApiError(await call(server, 'GET', path, { headers: bearer(KEY) }), invalidString(param));
  });

  it('is refused the same way when a POST sends its parameters in the query string', async () => {
    const res = await call(server, 'POST', '/v1/apps/secrets?name=x%00y&payload=p&scope[type]=account', {
      headers: bearer(KEY),
    });
    expect(expectApiError(res, invalidString('name')).message).toContain('NUL');
    expect(await snapshot()).toBe(before);
  });

  it('reaches stripe-node as a StripeInvalidRequestError naming the parameter, with no retry', async () => {
    const stripe = server.stripe(KEY, { maxNetworkRetries: 2 });
    const expected = (param: string) =>
      ({ type: 'StripeInvalidRequestError', statusCode: 400, code: undefined, param }) as const;
    await expectStripeError(
      stripe.apps.secrets.create({ name: 'a\u0000b', payload: 'p', scope: ACCOUNT }),
      expected('name'),
    );
    await expectStripeError(
      stripe.apps.secrets.create({ name: 'kept', payload: '\u0000', scope: ACCOUNT }),
      expected('payload'),
    );
    await expectStripeError(
      stripe.apps.secrets.find({ name: 'kept', scope: { type: 'user', user: 'usr_1\u0000' } }),
      expected('scope[user]'),
    );
    await expectStripeError(
      stripe.apps.secrets.list({ scope: USER, starting_after: `${cursor}\u0000` }),
      expected('starting_after'),
    );
    await expectStripeError(stripe.apps.secrets.deleteWhere({ name: '\u0000', scope: ACCOUNT }), expected('name'));
    expect(await snapshot()).toBe(before);
    // The key and its secrets are untouched: the same cursor still pages.
    const page = await stripe.apps.secrets.list({ scope: USER, ending_before: cursor });
    expect(page.data).toEqual([]);
  });
});
