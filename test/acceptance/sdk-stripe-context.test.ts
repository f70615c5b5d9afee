/**
 * stripe-node's `stripeContext` option, end to end: per request and on the client, as a string and
 * as a `Stripe.StripeContext`, it acts on the account it names, the same account `stripeAccount`
 * names (docs.stripe.com/context: Stripe-Context supersedes Stripe-Account). The answer names that
 * account in `Stripe-Account`, which stripe-node copies to `lastResponse.stripeAccount`.
 */
import Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import { noSuchSecret } from '../support/api-assertions.js';
import { serverForFile } from '../support/in-process-server.js';
import { expectStripeError, freshKey, ResponseAudit } from '../support/sdk.js';

const server = serverForFile();
const audit = new ResponseAudit();
afterEach(() => {
  audit.verify();
});

const ACCOUNT = { type: 'account' } as const;

describe('stripeContext', () => {
  it('per request: a secret created in a context is found with stripeAccount, and not on the platform', async () => {
    const stripe = audit.client(server, freshKey('context'));
    const created = await stripe.apps.secrets.create(
      { name: 'in-context', payload: 'p', scope: ACCOUNT },
      { stripeContext: 'acct_1SdkCtx' },
    );
    expect(created.lastResponse.stripeAccount).toBe('acct_1SdkCtx');
    const found = await stripe.apps.secrets.find(
      { name: 'in-context', scope: ACCOUNT, expand: ['payload'] },
      { stripeAccount: 'acct_1SdkCtx' },
    );
    expect(found).toMatchObject({ id: created.id, payload: 'p' });
    await expectStripeError(
      stripe.apps.secrets.find({ name: 'in-context', scope: ACCOUNT }),
      noSuchSecret('in-context'),
    );
  });

  it('on the client, as a StripeContext path: every call acts on the last account of the path', async () => {
    const key = freshKey('context_client');
    const context = new Stripe.StripeContext(['acct_1SdkPlat']).push('acct_1SdkChild');
    const inContext = audit.client(server, key, { stripeContext: context });
    await inContext.apps.secrets.create({ name: 'a', payload: '1', scope: ACCOUNT });
    await inContext.apps.secrets.create({ name: 'b', payload: '2', scope: ACCOUNT });
    const listed = await inContext.apps.secrets.list({ scope: ACCOUNT });
    expect(listed.data.map((s) => s.name)).toEqual(['b', 'a']);
    expect(listed.lastResponse.stripeAccount).toBe('acct_1SdkChild');
    const viaAccount = await audit
      .client(server, key, { stripeAccount: 'acct_1SdkChild' })
      .apps.secrets.list({ scope: ACCOUNT });
    expect(viaAccount.data.map((s) => s.name)).toEqual(['b', 'a']);
    const deleted = await inContext.apps.secrets.deleteWhere({ name: 'a', scope: ACCOUNT });
    expect(deleted).toMatchObject({ name: 'a', deleted: true });
    expect((await audit.client(server, key).apps.secrets.list({ scope: ACCOUNT })).data).toEqual([]);
  });

  it('a malformed context is a StripePermissionError, and nothing is stored', async () => {
    const stripe = audit.client(server, freshKey('context_bad'));
    await expectStripeError(
      stripe.apps.secrets.create({ name: 'n', payload: 'p', scope: ACCOUNT }, { stripeContext: 'cus_123' }),
      { type: 'StripePermissionError', statusCode: 403, code: 'account_invalid' },
    );
    expect((await stripe.apps.secrets.list({ scope: ACCOUNT })).data).toEqual([]);
  });

  it('keys idempotency by the account: the same key in another context is another request', async () => {
    const stripe = audit.client(server, freshKey('context_idem'));
    const params = { name: 'n', payload: 'p', scope: ACCOUNT };
    await stripe.apps.secrets.create(params, { stripeContext: 'acct_1IdemA', idempotencyKey: 'ctx-1' });
    const replayed = await stripe.apps.secrets.create(params, {
      stripeAccount: 'acct_1IdemA',
      idempotencyKey: 'ctx-1',
    });
    expect(replayed.lastResponse.headers['idempotent-replayed']).toBe('true');
    await expectStripeError(
      stripe.apps.secrets.create(params, { stripeContext: 'acct_1IdemB', idempotencyKey: 'ctx-1' }),
      { type: 'StripeIdempotencyError', statusCode: 400, rawType: 'idempotency_error', code: undefined },
    );
  });
});
