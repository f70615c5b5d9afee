/**
 * expires_at through stripe-node: the bounds (in the future, at most 100 years ahead), and a secret
 * past its expiry behaving as deleted: find and deleteWhere are 404s, list leaves it out, it no
 * longer counts toward the cap, and its name can be set again. Time passes by moving the server's
 * clock (the in-process harness), so expiry is checked to the second without waiting.
 */
import type Stripe from 'stripe';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { emulatedPlatformOf } from '../../src/keys/api-keys.js';
import { noSuchSecret } from '../support/api-assertions.js';
import { type InProcessHandle, serverForFile } from '../support/in-process-server.js';
import { assertMatchesSchema } from '../support/openapi.js';
import { expectStripeError, freshKey, ResponseAudit, type Secret } from '../support/sdk.js';

const server = serverForFile();
const audit = new ResponseAudit();
afterEach(() => {
  audit.verify();
});

const ACCOUNT = { type: 'account' } as const;
const client = (label: string): Stripe => audit.client(server, freshKey(label));
const HUNDRED_YEARS = 100 * 365 * 24 * 60 * 60;
const now = () => server.clock.now();
/** The same UTC date and time 100 calendar years after `seconds`. */
const hundredYearsAfter = (seconds: number) => {
  const date = new Date(seconds * 1000);
  date.setUTCFullYear(date.getUTCFullYear() + 100);
  return date.getTime() / 1000;
};

describe('expires_at bounds', () => {
  it('refuses a time in the past, and the current second', async () => {
    const stripe = client('past');
    for (const expiresAt of [now() - 3600, now() - 1, now(), 1]) {
      await expectStripeError(
        stripe.apps.secrets.create({ name: 'p', payload: 'p', scope: ACCOUNT, expires_at: expiresAt }),
        {
          type: 'StripeInvalidRequestError',
          statusCode: 400,
          code: undefined,
          param: 'expires_at',
        },
      );
    }
    await expectStripeError(stripe.apps.secrets.find({ name: 'p', scope: ACCOUNT }), noSuchSecret('p'));
  });

  it('refuses a time more than 100 years ahead', async () => {
    const stripe = client('far');
    for (const expiresAt of [
      hundredYearsAfter(now()) + 1,
      now() + 100 * 366 * 24 * 3600,
      now() + 101 * 366 * 24 * 3600,
      now() + 200 * 365 * 24 * 3600,
    ]) {
      const err = await expectStripeError(
        stripe.apps.secrets.create({ name: 'f', payload: 'p', scope: ACCOUNT, expires_at: expiresAt }),
        { type: 'StripeInvalidRequestError', statusCode: 400, code: undefined, param: 'expires_at' },
      );
      expect(err.message).toMatch(/100 years/);
    }
    await expectStripeError(stripe.apps.secrets.find({ name: 'f', scope: ACCOUNT }), noSuchSecret('f'));
  });

  it('accepts the next second, and a time just under and exactly at the 100 years', async () => {
    const stripe = client('bounds_ok');
    const near = now() + 1;
    const far = now() + HUNDRED_YEARS - 24 * 3600;
    const a = await stripe.apps.secrets.create({ name: 'near', payload: 'p', scope: ACCOUNT, expires_at: near });
    assertMatchesSchema('create', a);
    expect(a.expires_at).toBe(near);
    const b = await stripe.apps.secrets.create({ name: 'far', payload: 'p', scope: ACCOUNT, expires_at: far });
    assertMatchesSchema('create', b);
    expect(b.expires_at).toBe(far);
    const found = await stripe.apps.secrets.find({ name: 'far', scope: ACCOUNT });
    assertMatchesSchema('find', found);
    expect(found.expires_at).toBe(far);
    const edge = await stripe.apps.secrets.create({
      name: 'edge',
      payload: 'p',
      scope: ACCOUNT,
      expires_at: hundredYearsAfter(now()),
    });
    expect(edge.expires_at).toBe(hundredYearsAfter(now()));
  });
});

describe('a secret past its expires_at', () => {
  // Each aspect gets its own key so the checks do not depend on each other's order.
  const keys = {
    find: freshKey('exp_find'),
    list: freshKey('exp_list'),
    del: freshKey('exp_delete'),
    cap: freshKey('exp_cap'),
    reuse: freshKey('exp_reuse'),
    replaced: freshKey('exp_replaced'),
  };
  const before: {
    found?: Secret;
    listed?: string[];
    capRefused?: Stripe.errors.StripeError;
    expiring?: Secret;
    reuseFirst?: Secret;
    replacement?: Secret;
  } = {};

  beforeAll(async () => {
    const s = (key: string) => audit.client(server, key);
    for (let i = 0; i < 9; i++) {
      await s(keys.cap).apps.secrets.create({ name: `keep${i}`, payload: 'p', scope: ACCOUNT });
    }
    await s(keys.list).apps.secrets.create({ name: 'stays', payload: 'p', scope: ACCOUNT });

    const expiresAt = now() + 2;
    const expiring = { name: 'short-lived', payload: 'temporary', scope: ACCOUNT, expires_at: expiresAt };
    before.expiring = await s(keys.find).apps.secrets.create(expiring);
    await s(keys.list).apps.secrets.create(expiring);
    await s(keys.del).apps.secrets.create(expiring);
    await s(keys.cap).apps.secrets.create(expiring);
    before.reuseFirst = await s(keys.reuse).apps.secrets.create(expiring);
    await s(keys.replaced).apps.secrets.create(expiring);
    // A replace without expires_at clears the expiry (G1): this one must survive the wait.
    before.replacement = await s(keys.replaced).apps.secrets.create({
      name: 'short-lived',
      payload: 'permanent now',
      scope: ACCOUNT,
    });

    // In the last second before the expiry: findable, listed, and counted toward the cap.
    server.clock.advance(1);
    before.found = await s(keys.find).apps.secrets.find({ name: 'short-lived', scope: ACCOUNT, expand: ['payload'] });
    before.listed = (await s(keys.list).apps.secrets.list({ scope: ACCOUNT })).data.map((x) => x.name);
    try {
      await s(keys.cap).apps.secrets.create({ name: 'eleventh', payload: 'p', scope: ACCOUNT });
    } catch (error) {
      before.capRefused = error as Stripe.errors.StripeError;
    }
    // From its expires_at on, a secret is gone.
    server.clock.advance(expiresAt - now());
  });

  it('was an ordinary secret before it expired', () => {
    assertMatchesSchema('create', before.expiring);
    assertMatchesSchema('find', before.found);
    expect(before.found?.payload).toBe('temporary');
    expect(before.found?.id).toBe(before.expiring?.id);
    expect(before.found?.expires_at).toBe(before.expiring?.expires_at);
    expect(before.listed?.sort()).toEqual(['short-lived', 'stays']);
    expect(before.capRefused?.type).toBe('StripeInvalidRequestError');
    expect(before.capRefused?.code).toBeUndefined();
    expect(before.capRefused?.message).toMatch(/^You can store at most 10 secrets in one scope/);
  });

  it('is a 404 resource_missing for find', async () => {
    await expectStripeError(
      audit.client(server, keys.find).apps.secrets.find({ name: 'short-lived', scope: ACCOUNT, expand: ['payload'] }),
      noSuchSecret('short-lived'),
    );
  });

  it('is left out of list', async () => {
    const list = await audit.client(server, keys.list).apps.secrets.list({ scope: ACCOUNT });
    assertMatchesSchema('list', list);
    expect(list.data.map((x) => x.name)).toEqual(['stays']);
    expect(list.has_more).toBe(false);
  });

  it('is a 404 for deleteWhere', async () => {
    await expectStripeError(
      audit.client(server, keys.del).apps.secrets.deleteWhere({ name: 'short-lived', scope: ACCOUNT }),
      noSuchSecret('short-lived'),
    );
  });

  it('no longer counts toward the cap of 10', async () => {
    const stripe = audit.client(server, keys.cap);
    const created = await stripe.apps.secrets.create({ name: 'eleventh', payload: 'fits now', scope: ACCOUNT });
    assertMatchesSchema('create', created);
    const list = await stripe.apps.secrets.list({ scope: ACCOUNT, limit: 100 });
    assertMatchesSchema('list', list);
    expect(list.data).toHaveLength(10);
    expect(list.data.map((x) => x.name)).not.toContain('short-lived');
    expect(list.data[0]?.name).toBe('eleventh');
  });

  it('can be set again under the same name, as a new secret', async () => {
    const stripe = audit.client(server, keys.reuse);
    const again = await stripe.apps.secrets.create({ name: 'short-lived', payload: 'second life', scope: ACCOUNT });
    assertMatchesSchema('create', again);
    expect(again.id).not.toBe(before.reuseFirst?.id);
    expect(again.expires_at).toBeNull();
    const found = await stripe.apps.secrets.find({ name: 'short-lived', scope: ACCOUNT, expand: ['payload'] });
    assertMatchesSchema('find', found);
    expect(found.payload).toBe('second life');
  });

  it('does not take a replacement that omitted expires_at with it', async () => {
    expect(before.replacement?.expires_at).toBeNull();
    const found = await server
      .stripe(keys.replaced)
      .apps.secrets.find({ name: 'short-lived', scope: ACCOUNT, expand: ['payload'] });
    assertMatchesSchema('find', found);
    expect(found.id).toBe(before.replacement?.id);
    expect(found.payload).toBe('permanent now');
    expect(found.expires_at).toBeNull();
  });
});

describe('the expiry sweep', () => {
  it('removes expired secrets from the database for good, and only those', async () => {
    const key = freshKey('exp_sweep');
    const mine = audit.client(server, key);
    const expiresAt = now() + 5;
    for (const user of ['usr_1', 'usr_2', 'usr_3']) {
      await mine.apps.secrets.create({
        name: 'brief',
        payload: 'p',
        scope: { type: 'user', user },
        expires_at: expiresAt,
      });
    }
    await mine.apps.secrets.create({ name: 'lasting', payload: 'p', scope: ACCOUNT });
    const stored = async () =>
      (
        await server.stores.engine.db
          .selectFrom('secrets')
          .select('name')
          .where('platform', '=', emulatedPlatformOf(key))
          .execute()
      ).map((r) => r.name);
    await server.sweep();
    expect(await stored()).toHaveLength(4);
    server.clock.advance(expiresAt - now());
    await server.sweep();
    expect(await stored()).toEqual(['lasting']);
    expect(server.output()).toMatch(/expiry sweep removed \d+ expired secret/);
  });
});

describe('the 100-year bound on the calendar', () => {
  const calendar = serverForFile();

  /** Moves the server's clock forward to `at` (unix seconds), in steps a clock accepts. */
  function moveTo(target: InProcessHandle, at: number): void {
    const STEP = 50 * 365 * 86_400;
    while (target.clock.now() < at) target.clock.advance(Math.min(STEP, at - target.clock.now()));
  }

  it('bounds at exactly 100 calendar years, to the second, and at February 28 from a February 29', async () => {
    const stripe = calendar.stripe(freshKey('calendar'));
    const cases = [
      // 2031-05-17T08:09:10Z: 2131-05-17T08:09:10Z is the last second allowed.
      { at: Date.UTC(2031, 4, 17, 8, 9, 10) / 1000, last: Date.UTC(2131, 4, 17, 8, 9, 10) / 1000 },
      // 2096-02-29T12:00:00Z: 2196 is a leap year too.
      { at: Date.UTC(2096, 1, 29, 12) / 1000, last: Date.UTC(2196, 1, 29, 12) / 1000 },
      // 2400-02-29T23:59:59Z: 2500 has no February 29, and March 1 would be more than 100 years.
      { at: Date.UTC(2400, 1, 29, 23, 59, 59) / 1000, last: Date.UTC(2500, 1, 28, 23, 59, 59) / 1000 },
    ];
    // A clock only moves forward: this server is the test's own, and the cases are in time order.
    for (const [i, { at, last }] of cases.entries()) {
      moveTo(calendar, at);
      const ok = await stripe.apps.secrets.create({ name: `c${i}`, payload: 'p', scope: ACCOUNT, expires_at: last });
      expect(ok.expires_at).toBe(last);
      await expectStripeError(
        stripe.apps.secrets.create({ name: `c${i}`, payload: 'p', scope: ACCOUNT, expires_at: last + 1 }),
        {
          type: 'StripeInvalidRequestError',
          statusCode: 400,
          code: undefined,
          param: 'expires_at',
        },
      );
      await stripe.apps.secrets.deleteWhere({ name: `c${i}`, scope: ACCOUNT });
    }
  });
});
