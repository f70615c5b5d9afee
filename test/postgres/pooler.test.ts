/**
 * The engine behind PgBouncer: in transaction mode it finds the pooler at start, says so, turns the
 * named prepared statements off unless told they are kept, sets the statement timeout in each
 * transaction (a startup parameter is refused), and serves concurrent writes and reads; in statement
 * mode, which cannot run its transactions, it refuses to start and says what it needs; connected
 * directly, it says what a pooler would need. Runs PgBouncers of its own (root and Debian's
 * `pgbouncer`; skipped otherwise). The acceptance suites run through one too (the `pgbouncer` project).
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoreEngine } from '../../src/store/engine.js';
import { migrateToLatest } from '../../src/store/migrations.js';
import { openPostgres, type PostgresOptions } from '../../src/store/postgres/open-postgres.js';
import { SqlSecretStore } from '../../src/store/sql-secret-store.js';
import { StoreUnavailableError } from '../../src/store/store-errors.js';
import { createDatabase, TEST_DATABASE_URL, type TestSchema } from '../support/postgres.js';
import { canRunPgBouncer, type PgBouncer, startPgBouncer } from '../support/throwaway-pgbouncer.js';

const TIMEOUTS = { poolSize: 4, statementTimeoutMs: 5000, queryTimeoutMs: 6000, connectTimeoutMs: 3000 };
const open = (url: string, options: Partial<PostgresOptions> = {}) => openPostgres({ url, ...TIMEOUTS, ...options });

describe.skipIf(!canRunPgBouncer || !TEST_DATABASE_URL)('the PostgreSQL engine behind PgBouncer', () => {
  let transactionMode: PgBouncer;
  let statementMode: PgBouncer;
  let database: TestSchema;
  const engines: StoreEngine[] = [];

  beforeAll(async () => {
    transactionMode = await startPgBouncer(TEST_DATABASE_URL as string, 'transaction');
    statementMode = await startPgBouncer(TEST_DATABASE_URL as string, 'statement');
    database = await createDatabase('pooler', transactionMode.url);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(engines.map((e) => e.close()));
    await database?.drop();
    transactionMode?.stop();
    statementMode?.stop();
  });

  it('in transaction mode: found, said, no named statements, and serving concurrent writes and reads', async () => {
    const engine = await open(database.url);
    engines.push(engine);
    expect(engine.notice).toMatch(/through a connection pooler \(it refuses startup parameters/);
    expect(engine.notice).toContain('named prepared statements off');
    await migrateToLatest(engine);
    const store = new SqlSecretStore(engine);
    const scope = { platform: 'acct_p', account: 'acct_p', livemode: false, scopeType: 'account', scopeUser: '' };
    const puts = Array.from({ length: 20 }, (_, i) =>
      store.put(
        {
          ...scope,
          name: `n${i % 10}`,
          id: `appsecret_${i}`,
          created: i,
          expiresAt: null,
          ciphertext: Buffer.from('s'),
        },
        { now: 1, maxPerScope: 10 },
      ),
    );
    expect((await Promise.all(puts)).filter((o) => o === 'created')).toHaveLength(10);
    const finds = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.find({ ...scope, name: `n${i % 10}` }, 1)),
    );
    expect(finds.every((f) => f !== undefined)).toBe(true);
  });

  it('in transaction mode: the statement timeout holds in each transaction', async () => {
    const engine = await open(database.url, { statementTimeoutMs: 300 });
    engines.push(engine);
    // One at a time: a transaction started before its rejection is awaited would reject unhandled.
    for (const run of [
      () => engine.writeTransaction((trx) => sql`select pg_sleep(2)`.execute(trx), 'scope'),
      () => engine.readSnapshot((trx) => sql`select pg_sleep(2)`.execute(trx)),
    ]) {
      const error = await run().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as Error).message).toContain('57014');
    }
  });

  it('keeps the named statements on when told the pooler keeps them', async () => {
    const engine = await open(database.url, { preparedStatements: 'on' });
    engines.push(engine);
    expect(engine.notice).toContain('named prepared statements on');
  });

  it('in statement mode: refuses to start, saying the pooler must run transactions', async () => {
    const url = new URL(database.url);
    url.port = new URL(statementMode.url).port;
    await expect(open(url.toString())).rejects.toThrow(/pool_mode = transaction/);
  });

  it('connected directly: says that named statements need a session of their own', async () => {
    const engine = await open(TEST_DATABASE_URL as string);
    engines.push(engine);
    expect(engine.notice).toMatch(/direct connection; named prepared statements on.*--db-prepared-statements off/);
  });
});
