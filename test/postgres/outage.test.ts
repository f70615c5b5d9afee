/**
 * A lost database: requests get a Stripe-shaped 503 `api_error`, and the server recovers by itself
 * when PostgreSQL is back. Uses a throwaway cluster of its own, so stopping it disturbs nothing
 * else. The server runs in this process: an error the pool does not handle would fail the run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessHandle, raw, removeDir, startInProcess } from '../support/in-process-server.js';
import { type Cluster, canRunCluster, createCluster } from '../support/throwaway-cluster.js';

describe.skipIf(!canRunCluster)('losing the PostgreSQL connection', () => {
  let cluster: Cluster;
  let server: InProcessHandle;

  beforeAll(async () => {
    cluster = await createCluster();
    cluster.start();
    server = await startInProcess({ databaseUrl: cluster.url, config: { dbConnectTimeoutMs: 1000 } });
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

    // pg_ctl -w returns once PostgreSQL accepts connections: the server must serve again at once,
    // whatever its pool held while the database was down.
    cluster.start();
    const found = await stripe.apps.secrets.find({ name: 'before', scope: { type: 'account' }, expand: ['payload'] });
    expect(found.payload).toBe('kept');
    const created = await stripe.apps.secrets.create({ name: 'after', payload: 'y', scope: { type: 'account' } });
    expect(created.name).toBe('after');
  }, 60_000);
});
