/**
 * The execute stage on the real stores over SQLite `:memory:`: a write commits its secret, its
 * idempotency record and its audit row in one unit of work, or none of them; a domain error is an
 * answer, saved and audited like any other; a payload read is answered only once its audit row is
 * stored.
 */
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execute } from '../../src/http/stages/execute.js';
import { KeyAuthority } from '../../src/keys/api-keys.js';
import { type MemoryStore, openMemoryStore } from '../support/memory-store.js';
import { requestContext, runStages, stagesBeforeExecute } from '../support/request-context.js';

let m: MemoryStore;
beforeEach(async () => {
  m = await openMemoryStore();
});
afterEach(() => m.close());

const KEY = 'sk_test_execute';
const FORM = { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/x-www-form-urlencoded' };

/** A request through the whole request path, execute included. */
function run(method: string, target: string, body = '', headers: Record<string, string> = {}) {
  const stages = [
    ...stagesBeforeExecute(new KeyAuthority(m.stores.apiKeys, { emulator: true })),
    execute({
      secrets: m.secrets,
      unitOfWork: m.unitOfWork,
      guard: m.guard,
      audit: m.stores.audit,
      clock: m.clock.nowMs,
    }),
  ];
  return runStages(requestContext(method, target, { headers: { ...FORM, ...headers }, body }), stages);
}
const create = (body: string, headers: Record<string, string> = {}) => run('POST', '/v1/apps/secrets', body, headers);

const auditLog = async () => (await m.stores.audit.query({ limit: 100 })).reverse();
const count = async (table: 'secrets' | 'idempotency_keys') =>
  Number(
    (
      await m.stores.engine.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );
/** Makes every audit write fail, as a full disk or a broken table would. */
const breakAuditLog = () => sql`alter table audit_log rename to audit_log_gone`.execute(m.stores.engine.db);

describe('a write', () => {
  it('answers with the secret, and stores it with its audit row', async () => {
    const context = await create('name=n&payload=p&scope[type]=account');
    expect(context.outcome.status).toBe(200);
    expect(JSON.parse(context.outcome.body)).toMatchObject({ object: 'apps.secret', name: 'n' });
    expect(context.audited).toBe(true);
    expect(context.record).toMatchObject({ status: 200, replayed: false });
    expect(await auditLog()).toEqual([
      expect.objectContaining({
        requestId: context.record.requestId,
        operation: 'apps.secret.create',
        name: 'n',
        outcome: 'ok',
        status: 200,
        time: m.clock.now(),
      }),
    ]);
    expect(await count('secrets')).toBe(1);
  });

  it('replays the saved answer to the same request under the same key, and audits the replay', async () => {
    const body = 'name=n&payload=p&scope[type]=account';
    const first = await create(body, { 'Idempotency-Key': 'k1' });
    const second = await create(body, { 'Idempotency-Key': 'k1' });
    expect(second.outcome).toMatchObject({ status: 200, body: first.outcome.body });
    expect(second.headers).toMatchObject({ 'Idempotent-Replayed': 'true', 'Original-Request': first.record.requestId });
    expect(second.record.replayed).toBe(true);
    expect(first.headers['Idempotent-Replayed']).toBeUndefined();
    expect(await count('secrets')).toBe(1);
    expect((await auditLog()).map((e) => e.outcome)).toEqual(['ok', 'replayed']);
  });

  it('answers a domain error as its outcome, and saves and audits it like any answer', async () => {
    const body = 'name=missing&scope[type]=account';
    const first = await run('POST', '/v1/apps/secrets/delete', body, { 'Idempotency-Key': 'd1' });
    expect(first.outcome.status).toBe(404);
    expect(JSON.parse(first.outcome.body)).toMatchObject({ error: { code: 'resource_missing', param: 'name' } });
    expect(first.record).toMatchObject({ status: 404, code: 'resource_missing' });
    // Created meanwhile, the secret changes nothing for the key already answered.
    await create('name=missing&payload=p&scope[type]=account');
    const again = await run('POST', '/v1/apps/secrets/delete', body, { 'Idempotency-Key': 'd1' });
    expect(again.outcome).toMatchObject({ status: 404, headers: { 'Stripe-Should-Retry': 'false' } });
    expect(await count('secrets')).toBe(1);
    expect((await auditLog()).map((e) => [e.operation, e.outcome])).toEqual([
      ['apps.secret.delete', 'resource_missing'],
      ['apps.secret.create', 'ok'],
      ['apps.secret.delete', 'replayed'],
    ]);
  });

  it('stores nothing at all when any part of its unit of work fails', async () => {
    await breakAuditLog();
    await expect(create('name=n&payload=p&scope[type]=account', { 'Idempotency-Key': 'k1' })).rejects.toThrow();
    expect(await count('secrets')).toBe(0);
    expect(await count('idempotency_keys')).toBe(0);
  });
});

describe('a read', () => {
  it('records a payload read in the audit log, and a read without payload nowhere', async () => {
    await create('name=n&payload=p&scope[type]=account');
    const plain = await run('GET', '/v1/apps/secrets/find?name=n&scope[type]=account');
    expect(plain.audited).toBe(false);
    await run('GET', '/v1/apps/secrets?scope[type]=account&expand[]=data.payload');
    const revealed = await run('GET', '/v1/apps/secrets/find?name=n&scope[type]=account&expand[]=payload');
    expect(JSON.parse(revealed.outcome.body)).toMatchObject({ payload: 'p' });
    expect(revealed.audited).toBe(true);
    expect((await auditLog()).map((e) => [e.operation, e.requestId])).toEqual([
      ['apps.secret.create', expect.any(String)],
      ['apps.secret.list', expect.any(String)],
      ['apps.secret.find', revealed.record.requestId],
    ]);
  });

  it('is not answered with its payload when its audit row cannot be stored', async () => {
    await create('name=n&payload=p&scope[type]=account');
    await breakAuditLog();
    await expect(run('GET', '/v1/apps/secrets/find?name=n&scope[type]=account&expand[]=payload')).rejects.toThrow();
    const plain = await run('GET', '/v1/apps/secrets/find?name=n&scope[type]=account');
    expect(plain.outcome.status).toBe(200);
  });
});
