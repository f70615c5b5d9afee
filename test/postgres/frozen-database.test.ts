/**
 * A frozen database (every PostgreSQL process stopped by SIGSTOP, as in a network partition): a
 * request waits at most the pool's acquire timeout plus the client-side query timeout, then gets a
 * 503 with `Stripe-Should-Retry: true`; when the database thaws, the pool recovers by itself and
 * every write acknowledged before is there. The bound is the behaviour under test (README,
 * "PostgreSQL and several instances"), hence the one assertion on elapsed time, with the second of
 * slack the bound documents. Uses a cluster of its own (root and Debian's binaries; skipped
 * otherwise).
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoreEngine } from '../../src/store/engine.js';
import { openPostgres } from '../../src/store/postgres/open-postgres.js';
import { StoreUnavailableError } from '../../src/store/store-errors.js';
import { raw, removeDir, type ServerHandle, startServer } from '../support/server-process.js';
import { type Cluster, canRunCluster, createCluster } from '../support/throwaway-cluster.js';

const CONNECT_TIMEOUT_MS = 1000;
const QUERY_TIMEOUT_MS = 2000;
const BOUND_MS = CONNECT_TIMEOUT_MS + QUERY_TIMEOUT_MS + 1000;
const KEY = 'sk_test_frozen';
const headers = { Authorization: `Bearer ${KEY}` };
const formHeaders = { ...headers, 'Content-Type': 'application/x-www-form-urlencoded' };

describe.skipIf(!canRunCluster)('a frozen PostgreSQL', () => {
  let cluster: Cluster;
  let server: ServerHandle;
  let engine: StoreEngine;

  beforeAll(async () => {
    cluster = await createCluster();
    cluster.start();
    server = await startServer({
      databaseUrl: cluster.url,
      env: {
        SECRET_STORE_DB_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
        SECRET_STORE_DB_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
        SECRET_STORE_DB_STATEMENT_TIMEOUT_MS: '1500',
      },
    });
    engine = await openPostgres({
      url: cluster.url,
      poolSize: 3,
      statementTimeoutMs: 1500,
      queryTimeoutMs: QUERY_TIMEOUT_MS,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
    });
  }, 120_000);

  afterAll(async () => {
    await engine?.close();
    await server?.stop();
    if (server) removeDir(server.dataDir);
    cluster?.remove();
  });

  /** One request of each kind the API has, i-th of its kind. */
  const request = (i: number) => {
    const path = '/v1/apps/secrets';
    switch (i % 4) {
      case 0:
        return raw(server, 'POST', path, {
          headers: formHeaders,
          body: `name=during${i}&payload=x&scope[type]=account`,
        });
      case 1:
        return raw(server, 'GET', `${path}/find?name=kept0&scope[type]=account&expand[]=payload`, { headers });
      case 2:
        return raw(server, 'GET', `${path}?scope[type]=account&expand[]=data.payload`, { headers });
      default:
        return raw(server, 'POST', `${path}/delete`, { headers: formHeaders, body: 'name=kept1&scope[type]=account' });
    }
  };

  it('answers 16 concurrent requests with a retryable 503 within the bound, then recovers with nothing lost', async () => {
    const stripe = server.stripe(KEY, { maxNetworkRetries: 0 });
    const acknowledged = [];
    for (let i = 0; i < 5; i++) {
      acknowledged.push(
        await stripe.apps.secrets.create({ name: `kept${i}`, payload: `p${i}`, scope: { type: 'account' } }),
      );
    }

    // Every pooled connection open and idle: the frozen database then holds requests in their
    // statements (the query timeout), not only in opening connections (the acquire timeout).
    await Promise.all(Array.from({ length: 20 }, () => stripe.apps.secrets.list({ scope: { type: 'account' } })));
    await Promise.all([1, 2, 3].map(() => sql`select pg_sleep(0.1)`.execute(engine.db)));

    cluster.freeze();
    let answers: Array<{ status: number; retry: string | null; type: unknown; ms: number }>;
    let transactions: Array<{ error: unknown; ms: number }>;
    try {
      // The engine's transactions directly too: a statement that gets no answer fails its
      // transaction without a ROLLBACK, which would wait as long again.
      const timed = async (work: Promise<unknown>) => {
        const started = performance.now();
        const error = await work.then(
          () => undefined,
          (e: unknown) => e,
        );
        return { error, ms: performance.now() - started };
      };
      const pending = Promise.all([
        timed(engine.writeTransaction(async (trx) => sql`select 1`.execute(trx))),
        timed(engine.writeTransaction(async (trx) => sql`select 1`.execute(trx), 'scope-lock')),
        timed(engine.readSnapshot(async (trx) => sql`select 1`.execute(trx))),
      ]);
      answers = await Promise.all(
        Array.from({ length: 16 }, async (_, i) => {
          const started = performance.now();
          const res = await request(i);
          const ms = performance.now() - started;
          return {
            status: res.status,
            retry: res.headers.get('stripe-should-retry'),
            type: (res.json as { error?: { type?: string } })?.error?.type,
            ms,
          };
        }),
      );
      transactions = await pending;
    } finally {
      cluster.thaw();
    }
    for (const { error, ms } of transactions) {
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(ms).toBeLessThanOrEqual(QUERY_TIMEOUT_MS + 1000);
    }
    for (const answer of answers) {
      expect(answer).toMatchObject({ status: 503, retry: 'true', type: 'api_error' });
      expect(answer.ms).toBeLessThanOrEqual(BOUND_MS);
    }

    // Thawed: the pool replaces the connections it gave up on, and requests succeed again.
    let found: { payload?: string | null } | undefined;
    const deadline = Date.now() + 30_000;
    while (!found && Date.now() < deadline) {
      found = await stripe.apps.secrets
        .find({ name: 'kept0', scope: { type: 'account' }, expand: ['payload'] })
        .catch(() => new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 100)));
    }
    expect(found?.payload).toBe('p0');
    for (const [i, secret] of acknowledged.entries()) {
      const again = await stripe.apps.secrets.find({
        name: secret.name,
        scope: { type: 'account' },
        expand: ['payload'],
      });
      expect(again.payload).toBe(`p${i}`);
    }
    const after = await stripe.apps.secrets.create({ name: 'after', payload: 'y', scope: { type: 'account' } });
    expect(after.name).toBe('after');
    expect(server.process.exitCode).toBeNull();
  }, 120_000);
});
