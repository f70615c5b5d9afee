/**
 * The error classes stripe-node raises against this server, with everything it copies from the
 * answer filled in: type, code, param, statusCode, requestId, headers, and a body that matches
 * Stripe's error schema (checked in expectStripeError). StripeIdempotencyError is asserted in
 * sdk-idempotency.test.ts.
 */
import Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import { serverForFile } from '../support/in-process-server.js';
import { assertMatchesSchema } from '../support/openapi.js';
import { expectStripeError, freshKey, ResponseAudit } from '../support/sdk.js';

const server = serverForFile();
const audit = new ResponseAudit();
afterEach(() => {
  audit.verify();
});

const ACCOUNT = { type: 'account' } as const;
const client = (label: string, config: Stripe.StripeConfig = {}): Stripe =>
  audit.client(server, freshKey(label), config);

/** Counts the HTTP attempts stripe-node makes, retries included. */
function countAttempts(stripe: Stripe): () => number {
  let n = 0;
  stripe.on('request', () => {
    n += 1;
  });
  return () => n;
}

describe('StripeInvalidRequestError', () => {
  it('a missing secret: 404 resource_missing on name, with the request id and no retry', async () => {
    const stripe = client('missing', { maxNetworkRetries: 2 });
    const attempts = countAttempts(stripe);
    const err = await expectStripeError(stripe.apps.secrets.find({ name: 'ghost', scope: ACCOUNT }), {
      type: 'StripeInvalidRequestError',
      statusCode: 404,
      rawType: 'invalid_request_error',
      code: 'resource_missing',
      param: 'name',
      message: "No such secret: 'ghost'",
    });
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err.requestId).toMatch(/^req_/);
    expect(err.headers?.['stripe-should-retry']).toBe('false');
    expect(err.headers?.['content-type']).toMatch(/^application\/json/);
    expect(err.doc_url).toBe('https://stripe.com/docs/error-codes/resource-missing');
    expect(attempts()).toBe(1);
  });

  it('an unknown parameter: 400 parameter_unknown naming it, and nothing stored', async () => {
    const stripe = client('unknown');
    const params = { name: 'n', payload: 'p', scope: ACCOUNT, colour: 'blue' } as Stripe.Apps.SecretCreateParams;
    const err = await expectStripeError(stripe.apps.secrets.create(params), {
      type: 'StripeInvalidRequestError',
      statusCode: 400,
      code: 'parameter_unknown',
      param: 'colour',
    });
    expect(err.message).toContain('colour');
    const list = await stripe.apps.secrets.list({ scope: ACCOUNT });
    assertMatchesSchema('list', list);
    expect(list.data).toEqual([]);
  });

  it('a missing required parameter: 400 parameter_missing', async () => {
    const stripe = client('missing_param');
    const params = { name: 'n', scope: ACCOUNT } as Stripe.Apps.SecretCreateParams;
    await expectStripeError(stripe.apps.secrets.create(params), {
      type: 'StripeInvalidRequestError',
      statusCode: 400,
      code: 'parameter_missing',
      param: 'payload',
    });
    await expectStripeError(stripe.apps.secrets.list({} as Stripe.Apps.SecretListParams), {
      type: 'StripeInvalidRequestError',
      statusCode: 400,
      code: 'parameter_missing',
      param: 'scope',
    });
  });

  it('an empty name: 400 parameter_invalid_empty', async () => {
    const stripe = client('empty');
    await expectStripeError(stripe.apps.secrets.create({ name: '', payload: 'p', scope: ACCOUNT }), {
      type: 'StripeInvalidRequestError',
      statusCode: 400,
      code: 'parameter_invalid_empty',
      param: 'name',
    });
    await expectStripeError(stripe.apps.secrets.find({ name: '', scope: ACCOUNT }), {
      type: 'StripeInvalidRequestError',
      statusCode: 400,
      code: 'parameter_invalid_empty',
      param: 'name',
    });
  });

  // Stripe's words: stripe/stripe-java#682 ("Invalid Stripe API version: 2019-2-19").
  it('a Stripe-Version that is no Stripe API version: 400 without a code', async () => {
    const stripe = client('version');
    for (const apiVersion of ['yesterday', '2025-07-30']) {
      await expectStripeError(stripe.apps.secrets.list({ scope: ACCOUNT }, { apiVersion }), {
        type: 'StripeInvalidRequestError',
        statusCode: 400,
        code: undefined,
        message: `Invalid Stripe API version: ${apiVersion}`,
      });
    }
  });

  it('a well-formed Stripe-Version is echoed back', async () => {
    const stripe = client('version_ok');
    const list = await stripe.apps.secrets.list({ scope: ACCOUNT }, { apiVersion: '2024-06-20' });
    assertMatchesSchema('list', list);
    expect(list.lastResponse.apiVersion).toBe('2024-06-20');
  });

  it('an unknown URL: 404 with the method and path in the message', async () => {
    const stripe = client('route');
    const err = await expectStripeError(stripe.rawRequest('GET', '/v1/apps/secrets/nope'), {
      type: 'StripeInvalidRequestError',
      statusCode: 404,
      code: undefined,
      param: undefined,
    });
    expect(err.message).toContain('GET: /v1/apps/secrets/nope');
  });
});

describe('StripeAuthenticationError', () => {
  it('an unregistered live key: 401 without a code, the key masked', async () => {
    const key = 'sk_live_Unregistered000000000000001234';
    const err = await expectStripeError(audit.client(server, key).apps.secrets.list({ scope: ACCOUNT }), {
      type: 'StripeAuthenticationError',
      statusCode: 401,
      rawType: 'invalid_request_error',
      code: undefined,
      param: undefined,
    });
    expect(err).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(err.message).toContain('Invalid API Key provided');
    expect(err.message).toContain('1234');
    expect(err.message).not.toContain(key);
    expect(err.headers?.['stripe-should-retry']).toBe('false');
  });

  it('a key that is not a Stripe key at all: 401', async () => {
    await expectStripeError(
      audit.client(server, 'not-a-stripe-key').apps.secrets.create({ name: 'n', payload: 'p', scope: ACCOUNT }),
      { type: 'StripeAuthenticationError', statusCode: 401, code: undefined },
    );
  });

  it('is raised before any parameter is looked at', async () => {
    await expectStripeError(
      audit.client(server, 'sk_live_AlsoUnregistered99').apps.secrets.find({ name: '', scope: { type: 'nope' } }),
      { type: 'StripeAuthenticationError', statusCode: 401 },
    );
  });
});

describe('StripePermissionError', () => {
  it('a malformed Stripe-Account, on the client or per request: 403', async () => {
    const bogus = client('bogus', { stripeAccount: 'bogus' });
    const err = await expectStripeError(bogus.apps.secrets.list({ scope: ACCOUNT }), {
      type: 'StripePermissionError',
      statusCode: 403,
      rawType: 'invalid_request_error',
      code: 'account_invalid',
    });
    expect(err).toBeInstanceOf(Stripe.errors.StripePermissionError);
    expect(err.message).toMatch(/^The provided key 'sk_test_\*+\w{4}' does not have access to account 'bogus'/);
    const stripe = client('bogus_per_request');
    await expectStripeError(
      stripe.apps.secrets.create({ name: 'n', payload: 'p', scope: ACCOUNT }, { stripeAccount: 'acct_' }),
      { type: 'StripePermissionError', statusCode: 403, code: 'account_invalid' },
    );
    await expectStripeError(
      stripe.apps.secrets.find({ name: 'n', scope: ACCOUNT }, { stripeAccount: 'acct_with-dash' }),
      { type: 'StripePermissionError', statusCode: 403, code: 'account_invalid' },
    );
    // Nothing was created anywhere.
    const list = await stripe.apps.secrets.list({ scope: ACCOUNT });
    assertMatchesSchema('list', list);
    expect(list.data).toEqual([]);
  });
});
