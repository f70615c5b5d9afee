/**
 * Authentication and routing over raw HTTP: the Authorization forms the SDK never sends, and URLs
 * and methods that are not part of the API. Every error is a Stripe-shaped JSON answer; like
 * Stripe's, a 401 and an unknown route carry no code (vapor-community/stripe#123, stripe/stripe-mock#312).
 */
import { describe, expect, it } from 'vitest';
import { call, expectApiError, expectOk } from '../support/api-assertions.js';
import { bearer, serverForFile } from '../support/in-process-server.js';

const server = serverForFile();

const LIST = '/v1/apps/secrets?scope[type]=account';
const list = (headers: Record<string, string>) => call(server, 'GET', LIST, { headers });

describe('authentication', () => {
  it('answers a request without Authorization with 401 and Stripe’s "no API key" message', async () => {
    const res = await list({});
    const error = expectApiError(res, { status: 401, code: undefined });
    expect(error.message).toMatch(/^You did not provide an API key\. /);
    expect(error.message).toContain("'Authorization: Bearer YOUR_SECRET_KEY'");
  });

  it('treats an empty Bearer credential as no API key', async () => {
    for (const value of ['Bearer ', 'Bearer', 'bearer    ']) {
      const error = expectApiError(await list({ Authorization: value }), { status: 401, code: undefined });
      expect(error.message).toMatch(/^You did not provide an API key/);
    }
  });

  // Stripe's words for a header without a scheme: salesforce/tough-cookie#45 ("You did not provide an API key, though you did set your Authorization header to \"null\". ...").
  it("answers an unknown scheme with 401 in Stripe's words, never repeating a key in it", async () => {
    for (const [value, shown] of [
      ['null', '****'],
      ['Token x', '*******'],
      ['sk_test_123', 'sk_test_***'],
      ['Digest sk_test_1234567890abcdef', `${'*'.repeat(27)}cdef`],
    ]) {
      const res = await list({ Authorization: value as string });
      const error = expectApiError(res, { status: 401, code: undefined });
      expect(error.message).toBe(
        `You did not provide an API key, though you did set your Authorization header to "${shown}". Using Bearer auth, your Authorization header should look something like 'Authorization: Bearer YOUR_SECRET_KEY'. See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.`,
      );
      if (value !== 'null') expect(res.text).not.toContain(value);
    }
  });

  it('accepts Basic auth with base64(key:) as the credentials', async () => {
    const basic = Buffer.from('sk_test_123:').toString('base64');
    const body = expectOk<{ object: string }>(await list({ Authorization: `Basic ${basic}` }), 'list');
    expect(body.object).toBe('list');
  });

  it('accepts Basic auth with the raw key as the credentials', async () => {
    expectOk(await list({ Authorization: 'Basic sk_test_123' }), 'list');
  });

  it('accepts the scheme name in any case', async () => {
    expectOk(await list({ Authorization: 'bearer sk_test_123' }), 'list');
    expectOk(await list({ Authorization: 'BEARER sk_test_123' }), 'list');
  });

  it('sees the same secrets through Basic and Bearer auth with one key', async () => {
    const key = 'sk_test_basic_and_bearer';
    const created = await call(server, 'POST', '/v1/apps/secrets', {
      headers: { Authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}`, 'Content-Type': FORM },
      body: 'name=via-basic&payload=p&scope[type]=account',
    });
    expectOk(created, 'secret');
    const listed = expectOk<{ data: { name: string }[] }>(await list(bearer(key)), 'list');
    expect(listed.data.map((s) => s.name)).toEqual(['via-basic']);
  });

  it('answers Basic credentials without a user with 401', async () => {
    expectApiError(await list({ Authorization: `Basic ${Buffer.from(':').toString('base64')}` }), {
      status: 401,
      code: undefined,
    });
  });

  it('answers a malformed key with 401', async () => {
    const error = expectApiError(await list(bearer('hello')), { status: 401, code: undefined });
    expect(error.message).toMatch(/^Invalid API Key provided: /);
  });

  it('never repeats a long malformed key in full', async () => {
    const secretPart = 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0';
    const key = `sk_test_${secretPart.slice(0, 20)}-${secretPart.slice(20)}`;
    const res = await list(bearer(key));
    const error = expectApiError(res, { status: 401, code: undefined });
    expect(res.text).not.toContain(key);
    expect(res.text).not.toContain(secretPart.slice(0, 20));
    expect(error.message).toMatch(/^Invalid API Key provided: sk_test_\*+/);
  });

  it('answers an unregistered live key with 401 and masks it', async () => {
    const key = `sk_live_${'Zx9'.repeat(14)}`;
    const res = await list(bearer(key));
    const error = expectApiError(res, { status: 401, code: undefined });
    expect(res.text).not.toContain(key);
    expect(error.message).toMatch(/^Invalid API Key provided: sk_live_\*+/);
    expect(error.message.endsWith(key.slice(-4))).toBe(true);
  });

  it('keeps the message short for a huge bogus key, masked up to its last 4 characters', async () => {
    const key = `sk_test_${'q'.repeat(4000)}-WXYZ`; // the dash makes it malformed
    const error = expectApiError(await list(bearer(key)), { status: 401, code: undefined });
    expect(error.message).toMatch(/^Invalid API Key provided: sk_test_\*{64}WXYZ$/);
  });

  it('answers an unregistered live restricted key with 401', async () => {
    expectApiError(await list(bearer('rk_live_unregistered')), { status: 401, code: undefined });
  });
});

const FORM = 'application/x-www-form-urlencoded';

describe('routing', () => {
  const unrecognized = async (method: string, path: string, expectedPath = path) => {
    const res = await call(server, method, path, {
      headers: method === 'POST' ? { ...bearer(), 'Content-Type': FORM } : bearer(),
      body: method === 'POST' ? 'name=x' : undefined,
    });
    const error = expectApiError(res, { status: 404, code: undefined });
    expect(error.message.startsWith(`Unrecognized request URL (${method}: ${expectedPath}). `)).toBe(true);
    return error;
  };

  it('answers another Stripe resource with 404', async () => {
    await unrecognized('GET', '/v1/customers');
  });

  it('answers an HTTP DELETE of the collection with 404 (delete is a POST)', async () => {
    await unrecognized('DELETE', '/v1/apps/secrets');
  });

  it('answers a retrieve by id with 404 (there is none)', async () => {
    await unrecognized('GET', '/v1/apps/secrets/foo');
  });

  it('answers a POST to find with 404 (find is a GET)', async () => {
    await unrecognized('POST', '/v1/apps/secrets/find');
  });

  it('answers a GET of delete with 404 (delete is a POST)', async () => {
    await unrecognized('GET', '/v1/apps/secrets/delete');
  });

  it('names the path without its query string', async () => {
    await unrecognized('GET', '/v1/customers?limit=3', '/v1/customers');
  });

  // Stripe's body for a trailing slash: vapor-community/stripe#123 ("Unrecognized request URL (GET: /v1/charges/). If you are trying to list objects, remove the trailing slash. ...").
  it("does not treat a trailing slash as the same route, and says so in Stripe's words", async () => {
    const error = await unrecognized('GET', '/v1/apps/secrets/');
    expect(error.message).toBe(
      'Unrecognized request URL (GET: /v1/apps/secrets/). If you are trying to list objects, remove the trailing slash. If you are trying to retrieve an object, make sure you passed a valid (non-empty) identifier in your code. Please see https://stripe.com/docs or we can help at https://support.stripe.com/.',
    );
  });

  // Stripe's body for a path without a trailing slash: devgpt-labs/devgpt#70 ("Unrecognized request URL (GET: /v1/payment_pages/.../confirm). Please see https://stripe.com/docs ...").
  it('gives no trailing-slash hint where there is no trailing slash', async () => {
    const error = await unrecognized('GET', '/v1/customers');
    expect(error.message).toBe(
      'Unrecognized request URL (GET: /v1/customers). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.',
    );
  });

  // Stripe's answer to GET / carries the hint too: stripe/stripe-mock#312 (a 404 read with curl -i from api.stripe.com).
  it('answers GET / with a JSON 404, with or without a key', async () => {
    const error = await unrecognized('GET', '/');
    expect(error.message).toContain('remove the trailing slash');
    const res = await call(server, 'GET', '/');
    expectApiError(res, { status: 404, code: undefined });
  });

  it('answers an unknown route without a key with 404 rather than 401', async () => {
    const res = await call(server, 'GET', '/v1/customers');
    expectApiError(res, { status: 404, code: undefined });
  });
});
