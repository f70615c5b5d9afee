/**
 * list through stripe-node: newest first, limit (default 10, 1..100), has_more, cursors both ways,
 * the SDK's auto-pagination forwards and backwards, cursor errors, and data.payload expansion.
 */
import type Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessHandle, removeDir, startInProcess } from '../support/in-process-server.js';
import { assertMatchesSchema } from '../support/openapi.js';
import { expectStripeError, freshKey, ResponseAudit, type Secret } from '../support/sdk.js';

let server: InProcessHandle;
const audit = new ResponseAudit();
afterEach(() => {
  audit.verify();
});
let stripe: Stripe;
/** Ten secrets in the account scope of one key, in creation order (s0 oldest). */
const created: Secret[] = [];
/** Their ids newest first: the order list must return. */
let newestFirst: string[];
const ACCOUNT = { type: 'account' } as const;
const OTHER_USER = { type: 'user', user: 'usr_Pager' } as const;
let otherScopeId: string;
let otherKeyId: string;

beforeAll(async () => {
  server = await startInProcess();
  stripe = audit.client(server, freshKey('pager'));
  for (let i = 0; i < 10; i++) {
    const secret = await stripe.apps.secrets.create({ name: `s${i}`, payload: `payload-${i}`, scope: ACCOUNT });
    assertMatchesSchema('create', secret);
    created.push(secret);
  }
  newestFirst = created.map((s) => s.id).reverse();
  const inUserScope = await stripe.apps.secrets.create({ name: 'u', payload: 'u', scope: OTHER_USER });
  otherScopeId = inUserScope.id;
  const otherKey = await audit.client(server, freshKey('pager_other')).apps.secrets.create({
    name: 's0',
    payload: 'x',
    scope: ACCOUNT,
  });
  otherKeyId = otherKey.id;
});
afterAll(async () => {
  await server.stop();
  removeDir(server.dataDir);
});

const idOf = (i: number): string => created[i]?.id ?? '';
const ids = (secrets: readonly Secret[]): string[] => secrets.map((s) => s.id);

describe('a page', () => {
  it('is a list object for /v1/apps/secrets, newest first, with up to 10 items by default', async () => {
    const list = await stripe.apps.secrets.list({ scope: ACCOUNT });
    assertMatchesSchema('list', list);
    expect(list.object).toBe('list');
    expect(list.url).toBe('/v1/apps/secrets');
    expect(list.has_more).toBe(false);
    expect(ids(list.data)).toEqual(newestFirst);
    for (let i = 1; i < list.data.length; i++) {
      expect(list.data[i - 1]?.created).toBeGreaterThanOrEqual(list.data[i]?.created ?? Number.POSITIVE_INFINITY);
    }
    for (const item of list.data) {
      assertMatchesSchema('secret', item);
      expect('payload' in item).toBe(false);
      expect(item.scope).toEqual({ type: 'account' });
      expect(item.livemode).toBe(false);
    }
  });

  it('is an empty list with has_more false for an empty scope', async () => {
    const list = await stripe.apps.secrets.list({ scope: { type: 'user', user: 'usr_Nobody' } });
    assertMatchesSchema('list', list);
    expect(list.data).toEqual([]);
    expect(list.has_more).toBe(false);
    expect(list.url).toBe('/v1/apps/secrets');
  });

  it('holds exactly limit items and says whether more remain', async () => {
    for (const [limit, hasMore] of [
      [1, true],
      [3, true],
      [9, true],
      [10, false],
      [11, false],
      [100, false],
    ] as const) {
      const list = await stripe.apps.secrets.list({ scope: ACCOUNT, limit });
      assertMatchesSchema('list', list);
      expect(ids(list.data), `limit ${limit}`).toEqual(newestFirst.slice(0, limit));
      expect(list.has_more, `limit ${limit}`).toBe(hasMore);
    }
  });

  // Stripe's words: stripe/stripe-php#982 ("This value must be greater than or equal to 1.").
  it('refuses a limit of 0 or 101 (and a negative one), naming limit, without a code', async () => {
    for (const limit of [0, 101, -1, 1000]) {
      await expectStripeError(stripe.apps.secrets.list({ scope: ACCOUNT, limit }), {
        type: 'StripeInvalidRequestError',
        statusCode: 400,
        code: undefined,
        param: 'limit',
        message:
          limit < 1
            ? 'This value must be greater than or equal to 1.'
            : 'This value must be less than or equal to 100.',
      });
    }
  });

  it('includes payloads with expand: [data.payload], and only then', async () => {
    const expanded = await stripe.apps.secrets.list({ scope: ACCOUNT, expand: ['data.payload'] });
    assertMatchesSchema('list', expanded);
    expect(ids(expanded.data)).toEqual(newestFirst);
    for (const item of expanded.data) {
      assertMatchesSchema('secret', item);
      expect(item.payload).toBe(`payload-${item.name.slice(1)}`);
    }
    const plain = await stripe.apps.secrets.list({ scope: ACCOUNT, limit: 4 });
    assertMatchesSchema('list', plain);
    for (const item of plain.data) expect('payload' in item).toBe(false);
  });
});

describe('cursors', () => {
  it('starting_after walks forward page by page', async () => {
    const pages: string[][] = [];
    const more: boolean[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await stripe.apps.secrets.list({
        scope: ACCOUNT,
        limit: 4,
        ...(cursor ? { starting_after: cursor } : {}),
      });
      assertMatchesSchema('list', page);
      pages.push(ids(page.data));
      more.push(page.has_more);
      if (!page.has_more) break;
      cursor = page.data.at(-1)?.id;
    }
    expect(pages).toEqual([newestFirst.slice(0, 4), newestFirst.slice(4, 8), newestFirst.slice(8)]);
    expect(more).toEqual([true, true, false]);
  });

  it('starting_after the oldest secret is an empty last page', async () => {
    const page = await stripe.apps.secrets.list({ scope: ACCOUNT, starting_after: idOf(0) });
    assertMatchesSchema('list', page);
    expect(page.data).toEqual([]);
    expect(page.has_more).toBe(false);
  });

  it('ending_before returns the page just newer than the cursor, still newest first', async () => {
    const nearOldest = await stripe.apps.secrets.list({ scope: ACCOUNT, limit: 4, ending_before: idOf(0) });
    assertMatchesSchema('list', nearOldest);
    expect(ids(nearOldest.data)).toEqual([idOf(4), idOf(3), idOf(2), idOf(1)]);
    expect(nearOldest.has_more).toBe(true);
    const top = await stripe.apps.secrets.list({ scope: ACCOUNT, limit: 4, ending_before: idOf(7) });
    assertMatchesSchema('list', top);
    expect(ids(top.data)).toEqual([idOf(9), idOf(8)]);
    expect(top.has_more).toBe(false);
    const none = await stripe.apps.secrets.list({ scope: ACCOUNT, ending_before: idOf(9) });
    assertMatchesSchema('list', none);
    expect(none.data).toEqual([]);
    expect(none.has_more).toBe(false);
  });

  // Stripe's answer: arlyon/async-stripe#753 (400, "Received both starting_after and ending_before parameters. Please pass in only one.", code None).
  it("refuses starting_after and ending_before together, in Stripe's words and without a code", async () => {
    await expectStripeError(
      stripe.apps.secrets.list({ scope: ACCOUNT, starting_after: idOf(5), ending_before: idOf(2) }),
      {
        type: 'StripeInvalidRequestError',
        statusCode: 400,
        code: undefined,
        param: undefined,
        message: 'Received both starting_after and ending_before parameters. Please pass in only one.',
      },
    );
  });

  const foreignCursors = [
    ['a secret of another scope of the same key', () => otherScopeId],
    ['a secret of another API key', () => otherKeyId],
    ['a made-up id', () => 'appsecret_000000000000000000000000000000'],
    ['something that is not an id', () => 'cus_123'],
  ] as const;
  for (const [label, cursor] of foreignCursors) {
    it(`is a 404 on starting_after / ending_before for ${label}`, async () => {
      for (const param of ['starting_after', 'ending_before'] as const) {
        const err = await expectStripeError(stripe.apps.secrets.list({ scope: ACCOUNT, [param]: cursor() }), {
          type: 'StripeInvalidRequestError',
          statusCode: 404,
          code: 'resource_missing',
          param,
        });
        expect(err.message).toContain(cursor());
      }
    });
  }

  it('accepts that user-scope id as a cursor in its own scope', async () => {
    const page = await stripe.apps.secrets.list({ scope: OTHER_USER, starting_after: otherScopeId });
    assertMatchesSchema('list', page);
    expect(page.data).toEqual([]);
  });
});

describe('auto-pagination in stripe-node', () => {
  it('autoPagingToArray with limit 2 returns all 10 in order, once each', async () => {
    const all = await stripe.apps.secrets.list({ scope: ACCOUNT, limit: 2 }).autoPagingToArray({ limit: 1000 });
    for (const item of all) assertMatchesSchema('secret', item);
    expect(ids(all)).toEqual(newestFirst);
    expect(new Set(ids(all)).size).toBe(10);
  });

  it('autoPagingEach with limit 2 visits all 10 in order, once each', async () => {
    const seen: string[] = [];
    await stripe.apps.secrets.list({ scope: ACCOUNT, limit: 2, expand: ['data.payload'] }).autoPagingEach((item) => {
      assertMatchesSchema('secret', item);
      expect(item.payload).toBe(`payload-${item.name.slice(1)}`);
      seen.push(item.id);
    });
    expect(seen).toEqual(newestFirst);
  });

  it('for await over list with limit 3 visits all 10 in order', async () => {
    const seen: string[] = [];
    for await (const item of stripe.apps.secrets.list({ scope: ACCOUNT, limit: 3 })) {
      assertMatchesSchema('secret', item);
      seen.push(item.id);
    }
    expect(seen).toEqual(newestFirst);
  });

  it('autoPagingToArray stops at its own limit', async () => {
    const some = await stripe.apps.secrets.list({ scope: ACCOUNT, limit: 2 }).autoPagingToArray({ limit: 5 });
    expect(ids(some)).toEqual(newestFirst.slice(0, 5));
  });

  it('continues after starting_after', async () => {
    const rest = await stripe.apps.secrets
      .list({ scope: ACCOUNT, limit: 2, starting_after: idOf(7) })
      .autoPagingToArray({ limit: 100 });
    expect(ids(rest)).toEqual(newestFirst.slice(3));
  });

  it('pages backwards from ending_before, oldest to newest', async () => {
    const backwards = await stripe.apps.secrets
      .list({ scope: ACCOUNT, limit: 2, ending_before: idOf(0) })
      .autoPagingToArray({ limit: 100 });
    for (const item of backwards) assertMatchesSchema('secret', item);
    expect(ids(backwards)).toEqual(created.slice(1).map((s) => s.id));
    expect(new Set(ids(backwards)).size).toBe(9);
    const fromMiddle = await stripe.apps.secrets
      .list({ scope: ACCOUNT, limit: 3, ending_before: idOf(4) })
      .autoPagingToArray({ limit: 100 });
    expect(ids(fromMiddle)).toEqual(created.slice(5).map((s) => s.id));
  });
});
