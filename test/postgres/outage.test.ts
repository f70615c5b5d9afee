/**
 * A lost database: requests get a Stripe-shaped 503 `api_error`, and the server recovers by itself
 * when PostgreSQL is back. Uses a throwaway cluster of its own (initdb in a temp dir, run as the
 * `postgres` user), so stopping it disturbs nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw, removeDir, type ServerHandle, startServer } from '../support/server-process.js';
import { type Cluster, canRunCluster, createCluster } from '../support/throwaway-cluster.js';

describe.skipIf(!canRunCluster)('losing the PostgreSQL connection', () => {
  let cluster: Cluster;
  let server: ServerHandle;

  beforeAll(async () => {
    cluster = await createCluster();
    cluster.start();
    server = await startServer({
      databaseUrl: cluster.url,
      env: { SECRET_STORE_DB_CONNECT_TIMEOUT_MS: '1000' },
    });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    if (server) removeDir(server.dataDir);
    cluster?.remove();
  });

  it('answers 503 api_error while the database is down and recovers when it is back', async () => {
    const stripe = server.stripe('sk_test_outage', { maxNetworkRetries: 0 });
    await stripe.apps.secrets.create({ name: 'before', payload: 'kept', scope: { type: 'account' } });

    cluster.stop();
    const down = await raw(server, 'GET', '/v1/apps/secrets/find?name=before&scope[type]=account', {
      headers: { Authorization: 'Bearer sk_test_outage' },
    });
    expect(down.status).toBe(503);
    expect(down.headers.get('stripe-should-retry')).toBe('true');
    // api_error without a code, as Stripe sends its server errors.
    expect(down.json).toEqual({
      error: {
        message: 'The secret store database is unavailable right now. Please retry shortly.',
        type: 'api_error',
      },
    });
    await expect(
      stripe.apps.secrets.create({ name: 'during', payload: 'x', scope: { type: 'account' } }),
    ).rejects.toMatchObject({ type: 'StripeAPIError', statusCode: 503 });

    cluster.start();
    let found: { payload?: string | null } | undefined;
    const deadline = Date.now() + 15_000;
    while (!found && Date.now() < deadline) {
      try {
        found = await stripe.apps.secrets.find({ name: 'before', scope: { type: 'account' }, expand: ['payload'] });
      } catch {
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    expect(found?.payload).toBe('kept');
    const created = await stripe.apps.secrets.create({ name: 'after', payload: 'y', scope: { type: 'account' } });
    expect(created.name).toBe('after');
    expect(server.process.exitCode).toBeNull();
  }, 60_000);
});
