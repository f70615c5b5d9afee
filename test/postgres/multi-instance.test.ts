import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintOf, recordOwner } from '../../src/http/idempotency-guard.js';
import { emulatedPlatformOf, emulatorPrincipal } from '../../src/keys/api-keys.js';
import { form, type InProcessHandle, raw, removeDir, startInProcess } from '../support/in-process-server.js';
import { createSchema, type TestSchema } from '../support/postgres.js';

let schema: TestSchema;
let a: InProcessHandle;
let b: InProcessHandle;
const masterKey = randomBytes(32).toString('base64');

beforeAll(async () => {
  schema = await createSchema('multi');
  const env = { SECRET_STORE_MASTER_KEY: masterKey };
  [a, b] = await Promise.all([
    startInProcess({ databaseUrl: schema.url, env }),
    startInProcess({ databaseUrl: schema.url, env }),
  ]);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  for (const s of [a, b]) if (s) removeDir(s.dataDir);
  await schema?.drop();
});

const settle = <T>(promises: Promise<T>[]) => Promise.allSettled(promises);

describe('two server instances on one PostgreSQL database', () => {
  it('sees on B at once what was set on A', async () => {
    await a.stripe('sk_test_multi1').apps.secrets.create({ name: 'k', payload: 'from-a', scope: { type: 'account' } });
    const found = await b
      .stripe('sk_test_multi1')
      .apps.secrets.find({ name: 'k', scope: { type: 'account' }, expand: ['payload'] });
    expect(found.payload).toBe('from-a');
  });

  it('keeps exactly 10 of 50 concurrent creates into one scope split across A and B', async () => {
    const clients = [a.stripe('sk_test_multi2'), b.stripe('sk_test_multi2')];
    const results = await settle(
      Array.from({ length: 50 }, (_, i) =>
        (clients[i % 2] as Stripe).apps.secrets.create({
          name: `n${i}`,
          payload: `p${i}`,
          scope: { type: 'user', user: 'usr_race' },
        }),
      ),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(ok).toHaveLength(10);
    expect(refused).toHaveLength(40);
    for (const r of refused) {
      expect(r.reason).toMatchObject({
        statusCode: 400,
        code: undefined,
        message: expect.stringMatching(/^You can store at most 10 secrets/),
      });
    }
    const list = await a
      .stripe('sk_test_multi2')
      .apps.secrets.list({ scope: { type: 'user', user: 'usr_race' }, limit: 100 });
    expect(list.data).toHaveLength(10);
  });

  it('leaves one row after concurrent replaces of one name', async () => {
    const clients = [a.stripe('sk_test_multi3'), b.stripe('sk_test_multi3')];
    const results = await settle(
      Array.from({ length: 30 }, (_, i) =>
        (clients[i % 2] as Stripe).apps.secrets.create({ name: 'same', payload: `v${i}`, scope: { type: 'account' } }),
      ),
    );
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    const list = await b
      .stripe('sk_test_multi3')
      .apps.secrets.list({ scope: { type: 'account' }, expand: ['data.payload'] });
    expect(list.data).toHaveLength(1);
    expect(list.data[0]?.payload).toMatch(/^v\d+$/);
    const ids = new Set(results.map((r) => (r as PromiseFulfilledResult<Stripe.Apps.Secret>).value.id));
    expect(ids.has(list.data[0]?.id as string)).toBe(true);
  });

  it('executes an idempotent create once when the same key hits A and B at the same time', async () => {
    const clients = [a.stripe('sk_test_multi4'), b.stripe('sk_test_multi4')];
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (clients[i % 2] as Stripe).apps.secrets.create(
          { name: 'once', payload: 'x', scope: { type: 'account' } },
          { idempotencyKey: 'shared-key-1' },
        ),
      ),
    );
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
  });

  it('answers 409 on B for a key in flight on A', async () => {
    const key = 'sk_test_multi5';
    const platform = emulatedPlatformOf(key);
    const body = 'name=f&payload=p&scope[type]=account';
    const params = { name: 'f', payload: 'p', scope: { type: 'account' } };
    const client = new pg.Client({ connectionString: schema.url });
    await client.connect();
    const now = b.clock.now();
    // What A's claim looks like while its request runs: no status yet, locked for a minute.
    await client.query(
      `insert into idempotency_keys(owner, idem_key, fingerprint, request_id, status, body, created, locked_until)
       values ($1, 'in-flight-1', $2, 'req_onA', null, null, $3, $4)`,
      [
        recordOwner(emulatorPrincipal(key)),
        fingerprintOf('/v1/apps/secrets', ['POST', '/v1/apps/secrets', platform, params]),
        now,
        now + 60,
      ],
    );
    await client.end();
    const response = await raw(b, 'POST', '/v1/apps/secrets', {
      headers: { ...form(key), 'Idempotency-Key': 'in-flight-1' },
      body,
    });
    expect(response.status).toBe(409);
    expect(response.headers.get('stripe-should-retry')).toBe('true');
    expect((response.json as { error: { code: string } }).error.code).toBe('idempotency_key_in_use');
  });

  it('sweeps expired secrets with two sweepers at once, neither failing', async () => {
    const stripe = a.stripe('sk_test_multi6');
    const expiresAt = a.clock.now() + 2;
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        stripe.apps.secrets.create({ name: `e${i}`, payload: 'x', scope: { type: 'account' }, expires_at: expiresAt }),
      ),
    );
    const client = new pg.Client({ connectionString: schema.url });
    await client.connect();
    try {
      const count = async () =>
        Number((await client.query(`select count(*) as n from secrets where expires_at = $1`, [expiresAt])).rows[0].n);
      await Promise.all([a.sweep(), b.sweep()]);
      expect(await count()).toBe(10);
      for (const server of [a, b]) server.clock.advance(expiresAt - server.clock.now());
      await Promise.all([a.sweep(), b.sweep()]);
      expect(await count()).toBe(0);
    } finally {
      await client.end();
    }
    expect(a.output() + b.output()).not.toContain('sweep failed');
    // Between them the two sweepers removed each expired secret once.
    const removed = [...(a.output() + b.output()).matchAll(/expiry sweep removed (\d+) expired/g)];
    expect(removed.reduce((sum, m) => sum + Number(m[1]), 0)).toBe(10);
  });
});
