/**
 * The test tools of emulator mode through stripe-node (README, "Testing your app"): each platform's
 * clock (`GET`/`POST /_secret_store/clock`) and its reset (`POST /_secret_store/reset`), per
 * platform and test mode only; unknown URLs in registered-keys mode.
 */
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noSuchSecret } from '../support/api-assertions.js';
import { cli, storeArgs } from '../support/cli.js';
import {
  createKey,
  type InProcessHandle,
  removeDir,
  serverForFile,
  startInProcess,
} from '../support/in-process-server.js';
import { expectStripeError, freshKey } from '../support/sdk.js';

const server = serverForFile();
const ACCOUNT = { type: 'account' } as const;

interface Clock {
  readonly now: number;
}

/** What the reset answers. */
interface ResetAnswer {
  readonly deleted: { readonly secrets: number; readonly idempotency_records: number; readonly audit_rows: number };
  readonly fixtures_loaded: number;
}

const stripeFor = (key: string, handle: InProcessHandle = server) => handle.stripe(key, { maxNetworkRetries: 0 });

/** A test tool called through stripe-node, as an app's test suite would. */
async function tool<T>(stripe: Stripe, method: 'GET' | 'POST', path: string, params?: Record<string, unknown>) {
  const response = await stripe.rawRequest(method, path, params);
  return response as unknown as T;
}

const readClock = (stripe: Stripe) => tool<Clock>(stripe, 'GET', '/_secret_store/clock');
const advance = (stripe: Stripe, seconds: number | string) =>
  tool<Clock>(stripe, 'POST', '/_secret_store/clock', { advance: seconds });
const reset = (stripe: Stripe) => tool<ResetAnswer>(stripe, 'POST', '/_secret_store/reset');

async function auditOf(name: string, handle: InProcessHandle = server) {
  const result = await cli(['audit', '--json', '--limit', '1000', '--name', name, ...storeArgs(handle)]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Array<{ platform: string; time: number; operation: string }>;
}

describe('the clock of a platform', () => {
  it('starts at the server time, moves forward, and its secrets expire by it at once', async () => {
    const a = stripeFor(freshKey('clock_a'));
    const b = stripeFor(freshKey('clock_b'));
    const start = server.clock.now();
    expect((await readClock(a)).now).toBe(start);
    for (const stripe of [a, b]) {
      await stripe.apps.secrets.create({ name: 'token', payload: 't', scope: ACCOUNT, expires_at: start + 3600 });
    }
    expect((await advance(a, 3599)).now).toBe(start + 3599);
    expect((await a.apps.secrets.find({ name: 'token', scope: ACCOUNT })).expires_at).toBe(start + 3600);
    expect(await advance(a, 1)).toEqual({ now: start + 3600 });
    await expectStripeError(a.apps.secrets.find({ name: 'token', scope: ACCOUNT }), noSuchSecret('token'));
    expect((await a.apps.secrets.list({ scope: ACCOUNT })).data).toEqual([]);
    // Another platform keeps the server's time.
    expect((await readClock(b)).now).toBe(start);
    expect((await b.apps.secrets.find({ name: 'token', scope: ACCOUNT })).name).toBe('token');
  });

  it('dates what the platform creates, and what the audit log records of it, by its own time', async () => {
    const key = freshKey('clock_dates');
    const stripe = stripeFor(key);
    const { now } = await advance(stripe, 86_400);
    expect(now).toBe(server.clock.now() + 86_400);
    const created = await stripe.apps.secrets.create({ name: 'dated_secret', payload: 'p', scope: ACCOUNT });
    expect(created.created).toBe(now);
    // A new secret must expire after the platform's now, not the server's.
    await expectStripeError(
      stripe.apps.secrets.create({ name: 'late', payload: 'p', scope: ACCOUNT, expires_at: now - 1 }),
      { type: 'StripeInvalidRequestError', statusCode: 400, code: undefined, param: 'expires_at' },
    );
    const [entry] = await auditOf('dated_secret');
    expect(entry).toMatchObject({ operation: 'apps.secret.create', time: now });
  });

  it('moves the 24-hour window of its idempotency records, and no one else’s', async () => {
    const a = stripeFor(freshKey('idem_a'));
    const b = stripeFor(freshKey('idem_b'));
    for (const stripe of [a, b]) {
      await stripe.apps.secrets.create({ name: 'one', payload: 'p', scope: ACCOUNT }, { idempotencyKey: 'same-key' });
    }
    await advance(a, 24 * 60 * 60);
    // Past the window the key may be used afresh, with other parameters.
    const other = await a.apps.secrets.create(
      { name: 'two', payload: 'p', scope: ACCOUNT },
      { idempotencyKey: 'same-key' },
    );
    expect(other.name).toBe('two');
    await expectStripeError(
      b.apps.secrets.create({ name: 'two', payload: 'p', scope: ACCOUNT }, { idempotencyKey: 'same-key' }),
      { type: 'StripeIdempotencyError', statusCode: 400, rawType: 'idempotency_error' },
    );
  });

  it('only moves forward, by whole seconds, and says so', async () => {
    const stripe = stripeFor(freshKey('clock_bad'));
    const before = (await readClock(stripe)).now;
    const bad = { type: 'StripeInvalidRequestError', statusCode: 400, param: 'advance' } as const;
    await expectStripeError(advance(stripe, -1), {
      ...bad,
      code: 'parameter_invalid_integer',
      message: /only moves forward/,
    });
    await expectStripeError(advance(stripe, 100 * 366 * 24 * 3600 + 1), { ...bad, code: 'parameter_invalid_integer' });
    await expectStripeError(advance(stripe, '1.5'), { ...bad, code: 'parameter_invalid_integer' });
    await expectStripeError(advance(stripe, 'soon'), { ...bad, code: 'parameter_invalid_integer' });
    await expectStripeError(tool(stripe, 'POST', '/_secret_store/clock'), { ...bad, code: 'parameter_missing' });
    await expectStripeError(tool(stripe, 'POST', '/_secret_store/clock', { advance: 1, by: 2 }), {
      type: 'StripeInvalidRequestError',
      statusCode: 400,
      code: 'parameter_unknown',
      param: 'by',
    });
    expect((await readClock(stripe)).now).toBe(before);
    expect(await advance(stripe, 0)).toEqual({ now: before });
  });
});

describe('reset', () => {
  it("forgets the platform's secrets, idempotency records and audit rows, and nothing of another platform", async () => {
    const a = stripeFor(freshKey('reset_a'));
    const b = stripeFor(freshKey('reset_b'));
    for (const stripe of [a, b]) {
      const name = stripe === a ? 'reset_secret_a' : 'reset_secret_b';
      await stripe.apps.secrets.create({ name, payload: 'p', scope: ACCOUNT }, { idempotencyKey: 'reset-key' });
      await stripe.apps.secrets.create({ name: 'user_one', payload: 'p', scope: { type: 'user', user: 'usr_1' } });
      await stripe.apps.secrets.find({ name, scope: ACCOUNT, expand: ['payload'] });
    }
    expect(await reset(a)).toEqual({
      // Two creates with stripe-node's idempotency keys; the creates and the payload read audited.
      deleted: { secrets: 2, idempotency_records: 2, audit_rows: 3 },
      fixtures_loaded: 0,
    });
    expect((await a.apps.secrets.list({ scope: ACCOUNT })).data).toEqual([]);
    expect((await a.apps.secrets.list({ scope: { type: 'user', user: 'usr_1' } })).data).toEqual([]);
    expect(await auditOf('reset_secret_a')).toEqual([]);
    const again = await a.apps.secrets.create(
      { name: 'other', payload: 'p', scope: ACCOUNT },
      { idempotencyKey: 'reset-key' },
    );
    expect(again.name).toBe('other');

    expect((await b.apps.secrets.list({ scope: ACCOUNT })).data.map((s) => s.name)).toEqual(['reset_secret_b']);
    expect(await auditOf('reset_secret_b')).toHaveLength(2);
    await expectStripeError(
      b.apps.secrets.create({ name: 'other', payload: 'p', scope: ACCOUNT }, { idempotencyKey: 'reset-key' }),
      { type: 'StripeIdempotencyError', statusCode: 400, rawType: 'idempotency_error' },
    );
    expect(await reset(a)).toEqual({
      deleted: { secrets: 1, idempotency_records: 1, audit_rows: 1 },
      fixtures_loaded: 0,
    });
  });

  it('leaves the clock where it is', async () => {
    const stripe = stripeFor(freshKey('reset_clock'));
    const { now } = await advance(stripe, 500);
    expect(now).toBe(server.clock.now() + 500);
    await reset(stripe);
    expect((await readClock(stripe)).now).toBe(now);
  });
});

describe('test mode only', () => {
  let platformKeys: { test: string; live: string; userBound: string };
  beforeAll(async () => {
    const account = `acct_Tools${Date.now()}`;
    platformKeys = {
      test: await createKey(server, ['--mode', 'test', '--account', account]),
      live: await createKey(server, ['--mode', 'live', '--account', account]),
      userBound: await createKey(server, ['--mode', 'test', '--account', account, '--user', 'usr_1']),
    };
  });

  it("moves and resets the platform's test mode, never its live mode", async () => {
    const test = stripeFor(platformKeys.test);
    const live = stripeFor(platformKeys.live);
    const expiresAt = server.clock.now() + 60;
    for (const stripe of [test, live]) {
      await stripe.apps.secrets.create({ name: 'both', payload: 'p', scope: ACCOUNT, expires_at: expiresAt });
    }
    await advance(test, 60);
    await expectStripeError(test.apps.secrets.find({ name: 'both', scope: ACCOUNT }), noSuchSecret('both'));
    expect((await live.apps.secrets.find({ name: 'both', scope: ACCOUNT })).livemode).toBe(true);
    await live.apps.secrets.create({ name: 'kept', payload: 'p', scope: ACCOUNT });
    await reset(test);
    expect((await live.apps.secrets.list({ scope: ACCOUNT })).data.map((s) => s.name)).toEqual(['kept', 'both']);
  });

  it('refuses live keys and keys bound to a user', async () => {
    for (const key of [platformKeys.live, platformKeys.userBound]) {
      // One call at a time: a call made before the previous one is awaited could be refused
      // while nothing awaits it yet, an unhandled rejection.
      for (const call of [
        () => readClock(stripeFor(key)),
        () => advance(stripeFor(key), 1),
        () => reset(stripeFor(key)),
      ]) {
        const err = await expectStripeError(call(), { type: 'StripePermissionError', statusCode: 403 });
        expect(err.code).toBeUndefined();
      }
    }
  });

  it('needs a key, like every API call', async () => {
    const response = await fetch(`${server.url}/_secret_store/clock`);
    expect(response.status).toBe(401);
  });

  it('answers unknown tools and wrong methods as unknown URLs', async () => {
    const stripe = stripeFor(freshKey('tools_404'));
    for (const [method, path] of [
      ['GET', '/_secret_store/reset'],
      ['POST', '/_secret_store/nothing'],
    ] as const) {
      await expectStripeError(tool(stripe, method, path), {
        type: 'StripeInvalidRequestError',
        statusCode: 404,
        message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
      });
    }
    // A trailing slash gets Stripe's hint about it, as on any other path.
    await expectStripeError(tool(stripe, 'GET', '/_secret_store/'), {
      type: 'StripeInvalidRequestError',
      statusCode: 404,
      message: /remove the trailing slash/,
    });
  });
});

describe('in registered-keys mode', () => {
  let registered: InProcessHandle;
  beforeAll(async () => {
    registered = await startInProcess({ config: { emulator: false } });
  });
  afterAll(async () => {
    await registered?.stop();
    if (registered) removeDir(registered.dataDir);
  });

  it('the test tools do not exist: 404, as any unknown URL', async () => {
    const stripe = stripeFor(await createKey(registered, ['--mode', 'test']), registered);
    for (const [method, path] of [
      ['GET', '/_secret_store/clock'],
      ['POST', '/_secret_store/clock'],
      ['POST', '/_secret_store/reset'],
    ] as const) {
      await expectStripeError(tool(stripe, method, path, method === 'POST' ? { advance: 1 } : undefined), {
        type: 'StripeInvalidRequestError',
        statusCode: 404,
        message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
      });
    }
  });
});
