/**
 * One unit of work per request, through the real server in this process (on the engine of the
 * vitest project): a write is one write transaction holding its idempotency record, its secret and
 * its audit row; concurrent duplicates of an Idempotency-Key get the replay or Stripe's 409, never a
 * second execution; a user-bound key is never replayed a response about a scope it may not use; and
 * one tenant's unstorable input never costs another tenant's payload reads their audit rows.
 */
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/audit/audit-log.js';
import { resolveServerConfig } from '../../src/config/server-config.js';
import { generateApiKey } from '../../src/keys/api-keys.js';
import { jsonLogger } from '../../src/logging/logger.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import { createTestClock } from '../support/in-process-server.js';
import { createSchema, type TestSchema, testEngine } from '../support/postgres.js';
import { bearer, form, raw, removeDir, tempDir } from '../support/server-process.js';

const ACCOUNT = { type: 'account' } as const;
let running: RunningServer;
let schema: TestSchema | undefined;
const dataDir = tempDir();
const clock = createTestClock();
/** Write transactions the server's engine opened. */
let transactions = 0;

beforeAll(async () => {
  if (testEngine() === 'postgres') schema = await createSchema('uow');
  const config = resolveServerConfig({ port: 0, dataDir, databaseUrl: schema?.url }, {});
  running = await startServer(config, jsonLogger(new (await import('node:stream')).PassThrough()), {
    clock: clock.nowMs,
  });
  const engine = running.composition.stores.engine as { writeTransaction: (...args: never[]) => unknown };
  const writeTransaction = engine.writeTransaction;
  engine.writeTransaction = (...args: never[]) => {
    transactions++;
    return writeTransaction(...args);
  };
});
afterAll(async () => {
  await running?.close();
  await schema?.drop();
  removeDir(dataDir);
});

const url = () => running.url;
const port = () => Number(new URL(running.url).port);
const stripe = (key: string) =>
  new Stripe(key, { host: '127.0.0.1', port: port(), protocol: 'http', maxNetworkRetries: 0 });
const audit = (limit = 10_000): Promise<AuditEntry[]> => running.composition.stores.audit.query({ limit });

async function registerKey(platform: string, user?: string): Promise<string> {
  const { key, record } = generateApiKey({ livemode: false, platform, user, now: clock.now() });
  await running.composition.stores.apiKeys.insert(record);
  return key;
}

describe('one unit of work per write', () => {
  it('stores a set with an Idempotency-Key, its record and its audit row in one write transaction', async () => {
    const client = stripe('sk_test_uow_count');
    await client.apps.secrets.create({ name: 'warm', payload: 'p', scope: ACCOUNT });
    const before = transactions;
    const created = await client.apps.secrets.create(
      { name: 'counted', payload: 'p', scope: ACCOUNT },
      { idempotencyKey: 'count-1' },
    );
    expect(transactions - before).toBe(1);
    const rows = (await audit()).filter((e) => e.requestId === created.lastResponse.requestId);
    expect(rows).toMatchObject([{ operation: 'apps.secret.create', name: 'counted', outcome: 'ok', status: 200 }]);
    // The record was saved in that transaction: the same request replays without a second write.
    const replayed = await client.apps.secrets.create(
      { name: 'counted', payload: 'p', scope: ACCOUNT },
      { idempotencyKey: 'count-1' },
    );
    expect(replayed.id).toBe(created.id);
    expect(replayed.lastResponse.headers['idempotent-replayed']).toBe('true');
  });

  it('answers concurrent duplicates with the replay or a 409, and executes once', async () => {
    const body = 'name=raced&payload=p&scope[type]=account';
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        raw({ url: url() }, 'POST', '/v1/apps/secrets', {
          headers: { ...form('sk_test_uow_race'), 'Idempotency-Key': 'race-1' },
          body,
        }),
      ),
    );
    const ok = answers.filter((a) => a.status === 200);
    expect(answers.every((a) => a.status === 200 || a.status === 409)).toBe(true);
    expect(new Set(ok.map((a) => (a.json as { id: string }).id)).size).toBe(1);
    expect(ok.filter((a) => a.headers.get('idempotent-replayed') === null)).toHaveLength(1);
    const listed = await stripe('sk_test_uow_race').apps.secrets.list({ scope: ACCOUNT });
    expect(listed.data.map((s) => s.name)).toEqual(['raced']);
    const rows = (await audit()).filter((e) => e.name === 'raced');
    expect(rows.filter((e) => e.outcome === 'ok')).toHaveLength(1);
  });

  it('saves a domain error with the claim: the retry replays the 404', async () => {
    const client = stripe('sk_test_uow_404');
    const first = await raw({ url: url() }, 'POST', '/v1/apps/secrets/delete', {
      headers: { ...form('sk_test_uow_404'), 'Idempotency-Key': 'del-404' },
      body: 'name=nothing&scope[type]=account',
    });
    expect(first.status).toBe(404);
    await client.apps.secrets.create({ name: 'nothing', payload: 'p', scope: ACCOUNT });
    const again = await raw({ url: url() }, 'POST', '/v1/apps/secrets/delete', {
      headers: { ...form('sk_test_uow_404'), 'Idempotency-Key': 'del-404' },
      body: 'name=nothing&scope[type]=account',
    });
    expect(again.status).toBe(404);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await client.apps.secrets.find({ name: 'nothing', scope: ACCOUNT })).name).toBe('nothing');
  });
});

describe('idempotency bound to the caller', () => {
  it('never replays to a user-bound key a response about a scope it may not use', async () => {
    const platform = 'acct_uowplatform1';
    const platformKey = await registerKey(platform);
    const aliceKey = await registerKey(platform, 'usr_alice');
    const bob = { type: 'user', user: 'usr_bob' } as const;
    const owner = stripe(platformKey);
    await owner.apps.secrets.create({ name: 'bobs', payload: 'p', scope: bob });
    const deleted = await owner.apps.secrets.deleteWhere({ name: 'bobs', scope: bob }, { idempotencyKey: 'shared-k' });
    expect(deleted.deleted).toBe(true);
    const created = await owner.apps.secrets.create(
      { name: 'bobs2', payload: 'p', scope: bob },
      { idempotencyKey: 'shared-c' },
    );

    const alice = (path: string, body: string, key: string) =>
      raw({ url: url() }, 'POST', path, { headers: { ...form(aliceKey), 'Idempotency-Key': key }, body });
    for (const [path, body, key] of [
      ['/v1/apps/secrets/delete', 'name=bobs&scope[type]=user&scope[user]=usr_bob', 'shared-k'],
      ['/v1/apps/secrets', 'name=bobs2&payload=p&scope[type]=user&scope[user]=usr_bob', 'shared-c'],
    ] as const) {
      const answer = await alice(path, body, key);
      expect(answer.status).toBe(403);
      expect(answer.headers.get('idempotent-replayed')).toBeNull();
      expect(answer.text).not.toContain(created.id);
      expect(answer.text).not.toContain(deleted.id);
    }
    // In a scope she may use, the same key is hers alone: it executes, it does not replay.
    const own = await alice('/v1/apps/secrets/delete', 'name=bobs&scope[type]=account', 'shared-k');
    expect(own.status).toBe(404);
    expect(own.headers.get('idempotent-replayed')).toBeNull();

    // The platform key's own replay still works.
    const replay = await owner.apps.secrets.deleteWhere({ name: 'bobs', scope: bob }, { idempotencyKey: 'shared-k' });
    expect(replay.id).toBe(deleted.id);
    expect(replay.lastResponse.headers['idempotent-replayed']).toBe('true');
  });

  it('gives another key of the same platform a record of its own', async () => {
    const platform = 'acct_uowplatform2';
    const [first, second] = [await registerKey(platform), await registerKey(platform)];
    const a = await stripe(first).apps.secrets.create(
      { name: 'one', payload: 'p', scope: ACCOUNT },
      { idempotencyKey: 'per-key' },
    );
    const b = await stripe(second).apps.secrets.create(
      { name: 'two', payload: 'p', scope: ACCOUNT },
      { idempotencyKey: 'per-key' },
    );
    expect(b.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    expect(b.name).toBe('two');
    expect(b.id).not.toBe(a.id);
  });
});

describe('audit isolation', () => {
  it("records every one of a tenant's payload reads while another floods unstorable input", async () => {
    const victim = stripe('sk_test_uow_victim');
    await victim.apps.secrets.create({ name: 'watched', payload: 'p', scope: ACCOUNT });
    const long = 'n'.repeat(5000);
    const user = `usr_${'u'.repeat(60)}`;
    const attack = (i: number) => {
      const names = [`bad%00${i}`, long, `${long.slice(0, 4990)}${i}`];
      const name = names[i % names.length] as string;
      return i % 2 === 0
        ? raw({ url: url() }, 'POST', '/v1/apps/secrets', {
            headers: form('sk_test_uow_attacker'),
            body: `name=${name}&payload=p&scope[type]=user&scope[user]=${user}%00`,
          })
        : raw({ url: url() }, 'GET', `/v1/apps/secrets/find?name=${name}&scope[type]=account&expand[]=payload`, {
            headers: bearer('sk_test_uow_attacker'),
          });
    };
    const reads: string[] = [];
    await Promise.all([
      Promise.all(Array.from({ length: 100 }, (_, i) => attack(i))),
      (async () => {
        for (let i = 0; i < 200; i++) {
          const found = await victim.apps.secrets.find({ name: 'watched', scope: ACCOUNT, expand: ['payload'] });
          expect(found.payload).toBe('p');
          reads.push(found.lastResponse.requestId);
        }
      })(),
    ]);
    const recorded = new Set((await audit()).map((e) => e.requestId));
    expect(reads.filter((id) => !recorded.has(id))).toEqual([]);
  });
});
