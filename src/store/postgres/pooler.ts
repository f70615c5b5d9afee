/**
 * Whether the server reaches PostgreSQL through a transaction-pooling proxy such as PgBouncer, found
 * out at start on a connection of its own. Behind one, consecutive statements of a client may run
 * on different server sessions, so nothing may rely on session state: no startup parameters
 * (PgBouncer refuses them), the statement timeout set in each transaction instead, and, unless the
 * operator says the pooler keeps them (PgBouncer 1.21 and later with `max_prepared_statements`),
 * no named prepared statements. Transactions themselves are needed: statement pooling cannot run
 * them, and the server then refuses to start.
 */
import { PostgresAdapter, PostgresDialect } from 'kysely';
import type pg from 'pg';

export type PreparedStatementsMode = 'auto' | 'on' | 'off';

export interface ConnectionShape {
  /** Why the connection looks pooled; undefined for a direct connection. */
  readonly pooledBecause: string | undefined;
}

const REFUSED_PARAMETER = /unsupported startup parameter/i;

/**
 * Connects once with `config` plus the statement timeout as a startup parameter and looks at what
 * answers: a refusal of the parameter, or a server whose own port is not the one dialled, means a
 * proxy in between.
 */
export async function probeConnection(
  postgres: typeof pg,
  config: pg.ClientConfig,
  statementTimeoutMs: number,
): Promise<ConnectionShape> {
  let pooledBecause: string | undefined;
  let client = new postgres.Client({ ...config, statement_timeout: statementTimeoutMs });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    if (!(error instanceof Error && REFUSED_PARAMETER.test(error.message))) throw error;
    pooledBecause = 'it refuses startup parameters, as PgBouncer does';
    client = new postgres.Client(config);
    await client.connect();
  }
  try {
    const { rows } = await client.query<{ port: number | null }>('select inet_server_port() as port');
    const serverPort = rows[0]?.port;
    const dialled = Number(client.port);
    const overTcp = !String(client.host ?? '').startsWith('/');
    if (pooledBecause === undefined && overTcp && serverPort != null && serverPort !== dialled) {
      pooledBecause = `the server listens on port ${serverPort}, the URL names ${dialled}`;
    }
    if (pooledBecause !== undefined) await checkTransactions(client);
  } finally {
    await client.end().catch(() => {});
  }
  return { pooledBecause };
}

/** A pooler in statement mode ends the session on BEGIN: refuse to start, saying what is needed. */
async function checkTransactions(client: pg.Client): Promise<void> {
  try {
    await client.query('begin');
    await client.query('select 1');
    await client.query('commit');
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new Error(
      `PostgreSQL: the connection pooler in front of the database cannot run a transaction (${why}); ` +
        'the server needs transaction or session pooling (PgBouncer: pool_mode = transaction)',
    );
  }
}

/** Whether prepared queries are named statements, from the mode asked for and the connection's shape. */
export const namesStatements = (mode: PreparedStatementsMode, shape: ConnectionShape): boolean =>
  mode === 'on' || (mode === 'auto' && shape.pooledBecause === undefined);

/** The line the server logs at start: what it found, and what it needs from the operator. */
export function describeConnection(mode: PreparedStatementsMode, shape: ConnectionShape, named: boolean): string {
  const statements = named ? 'named prepared statements on' : 'named prepared statements off';
  if (shape.pooledBecause === undefined) {
    return (
      `PostgreSQL: direct connection; ${statements}` +
      (named
        ? ', which need a session of their own: behind a transaction-pooling PgBouncer before 1.21, start with --db-prepared-statements off'
        : '')
    );
  }
  return (
    `PostgreSQL: connected through a connection pooler (${shape.pooledBecause}); ${statements}` +
    (mode === 'auto'
      ? ' (--db-prepared-statements on where the pooler keeps them: PgBouncer 1.21+ with max_prepared_statements)'
      : '') +
    '; the statement timeout is set in each transaction; the pooler must run transactions (pool_mode = transaction or session)'
  );
}

/**
 * kysely's migration lock is a session-level advisory lock taken outside the migration's
 * transaction. Behind a pooler the lock, the transaction and the unlock may each run on another
 * server session: the lock keeps nobody out, and a session left holding it would make the next
 * migration wait for an hour. There, none is taken; two instances migrating at once are kept apart
 * by the migrations themselves (each runs in one transaction, and the loser fails on the winner's
 * tables and looks again, migrations.ts).
 */
class PoolerAdapter extends PostgresAdapter {
  override async acquireMigrationLock(): Promise<void> {}
  override async releaseMigrationLock(): Promise<void> {}
}

export class PooledPostgresDialect extends PostgresDialect {
  override createAdapter(): PostgresAdapter {
    return new PoolerAdapter();
  }
}
