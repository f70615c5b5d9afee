/**
 * `--fixtures FILE` (README, "Testing your app"): the secrets of a JSON file loaded at start, each
 * for its key's platform (sk_test_123's without one) and account, and loaded again by each reset of
 * that platform. Bad files are refused at start: see secret-store-testing.test.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noSuchSecret } from '../support/api-assertions.js';
import { type InProcessHandle, removeDir, startInProcess, tempDir } from '../support/in-process-server.js';
import { expectStripeError } from '../support/sdk.js';

const ACCOUNT = { type: 'account' } as const;
const USER = { type: 'user', user: 'usr_9' } as const;
const OTHER_KEY = 'sk_test_fixture_owner';

let dir: string;
let server: InProcessHandle;
let expiresAt: number;

beforeAll(async () => {
  dir = tempDir();
  expiresAt = Math.floor(Date.now() / 1000) + 3600;
  const file = join(dir, 'fixtures.json');
  writeFileSync(
    file,
    JSON.stringify([
      { name: 'webhook_secret', payload: 'whsec_1', scope: ACCOUNT },
      { name: 'oauth_token', payload: 'tok_1', scope: USER, expires_at: expiresAt, key: OTHER_KEY },
      { name: 'connected', payload: 'c', scope: ACCOUNT, account: 'acct_Connected1' },
    ]),
  );
  server = await startInProcess({ config: { fixtures: file } });
});

afterAll(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
  removeDir(dir);
});

const stripe = (key = 'sk_test_123', config: Stripe.StripeConfig = {}) => server.stripe(key, config);

async function reset(key: string) {
  return (await stripe(key).rawRequest('POST', '/_secret_store/reset')) as unknown as {
    deleted: { secrets: number };
    fixtures_loaded: number;
  };
}

describe('fixtures', () => {
  it("belong to sk_test_123's platform without a key, and to the key's platform with one", async () => {
    const found = await stripe().apps.secrets.find({ name: 'webhook_secret', scope: ACCOUNT, expand: ['payload'] });
    expect(found).toMatchObject({ name: 'webhook_secret', payload: 'whsec_1', livemode: false, expires_at: null });
    const other = await stripe(OTHER_KEY).apps.secrets.find({ name: 'oauth_token', scope: USER, expand: ['payload'] });
    expect(other).toMatchObject({ payload: 'tok_1', expires_at: expiresAt, scope: USER });
    await expectStripeError(
      stripe().apps.secrets.find({ name: 'oauth_token', scope: USER }),
      noSuchSecret('oauth_token'),
    );
    await expectStripeError(
      stripe(OTHER_KEY).apps.secrets.find({ name: 'webhook_secret', scope: ACCOUNT }),
      noSuchSecret('webhook_secret'),
    );
  });

  it('belong to the connected account they name', async () => {
    const connected = stripe('sk_test_123', { stripeAccount: 'acct_Connected1' });
    expect((await connected.apps.secrets.find({ name: 'connected', scope: ACCOUNT })).name).toBe('connected');
    await expectStripeError(
      stripe().apps.secrets.find({ name: 'connected', scope: ACCOUNT }),
      noSuchSecret('connected'),
    );
  });

  it("come back at each reset of their platform, less those expired on the platform's clock", async () => {
    const ours = stripe();
    await ours.apps.secrets.create({ name: 'made_in_a_test', payload: 'p', scope: ACCOUNT });
    await ours.apps.secrets.deleteWhere({ name: 'webhook_secret', scope: ACCOUNT });
    expect(await reset('sk_test_123')).toMatchObject({ deleted: { secrets: 2 }, fixtures_loaded: 2 });
    expect((await ours.apps.secrets.list({ scope: ACCOUNT })).data.map((s) => s.name)).toEqual(['webhook_secret']);
    const connected = stripe('sk_test_123', { stripeAccount: 'acct_Connected1' });
    expect((await connected.apps.secrets.list({ scope: ACCOUNT })).data.map((s) => s.name)).toEqual(['connected']);
    // The other platform's fixture is untouched by this reset; once expired on its clock, its own
    // reset leaves it out.
    const other = stripe(OTHER_KEY);
    expect((await other.apps.secrets.list({ scope: USER })).data.map((s) => s.name)).toEqual(['oauth_token']);
    await other.rawRequest('POST', '/_secret_store/clock', { advance: expiresAt - server.clock.now() });
    expect(await reset(OTHER_KEY)).toMatchObject({ deleted: { secrets: 1 }, fixtures_loaded: 0 });
    expect((await other.apps.secrets.list({ scope: USER })).data).toEqual([]);
  });
});
