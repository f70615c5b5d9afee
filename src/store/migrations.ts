/**
 * Versioned schema migrations, written with kysely's schema builder so the same list runs on SQLite
 * and PostgreSQL. Append new migrations; never edit one that has shipped.
 */
import {
  type ColumnDefinitionBuilder,
  type Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  sql,
} from 'kysely';

import type { EngineCapabilities, StoreEngine } from './engine.js';
import { nameKeyOf, scopeKeyOf } from './row-keys.js';
import {
  isConcurrentMigrationError,
  isMissingTableError,
  isVanishedSchemaError,
  NewerSchemaError,
} from './store-errors.js';

const migrations = (engine: EngineCapabilities): Record<string, Migration> => {
  // Ids sort in creation order byte by byte; PostgreSQL's default collation would not keep that.
  const collation = engine.bytewiseCollation;
  const bytewise = (c: ColumnDefinitionBuilder) => (collation ? c.modifyFront(sql`collate ${sql.id(collation)}`) : c);
  const { autoIncrementKey } = engine;
  return {
    '0001_initial': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('secrets')
          .addColumn('id', 'text', (c) => bytewise(c).primaryKey())
          .addColumn('platform', 'text', (c) => c.notNull())
          .addColumn('account', 'text', (c) => c.notNull())
          .addColumn('livemode', 'integer', (c) => c.notNull())
          .addColumn('scope_type', 'text', (c) => c.notNull())
          .addColumn('scope_user', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('ciphertext', engine.bytesType, (c) => c.notNull())
          .addColumn('created', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint')
          .execute();
        // The namespace of a secret: at most one row per name in a scope.
        await db.schema
          .createIndex('secrets_by_name')
          .on('secrets')
          .columns(['platform', 'account', 'livemode', 'scope_type', 'scope_user', 'name'])
          .unique()
          .execute();
        await db.schema
          .createIndex('secrets_by_expiry')
          .on('secrets')
          .column('expires_at')
          .where(sql.ref('expires_at'), 'is not', null)
          .execute();

        await db.schema
          .createTable('api_keys')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('key_hash', 'text', (c) => c.notNull().unique())
          .addColumn('display', 'text', (c) => c.notNull())
          .addColumn('livemode', 'integer', (c) => c.notNull())
          .addColumn('platform', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text')
          .addColumn('created', 'bigint', (c) => c.notNull())
          .addColumn('revoked_at', 'bigint')
          .execute();

        await db.schema
          .createTable('idempotency_keys')
          .addColumn('owner', 'text', (c) => bytewise(c).notNull())
          .addColumn('idem_key', 'text', (c) => bytewise(c).notNull())
          .addColumn('fingerprint', 'text', (c) => c.notNull())
          .addColumn('request_id', 'text', (c) => c.notNull())
          .addColumn('status', 'integer')
          .addColumn('body', 'text')
          .addColumn('created', 'bigint', (c) => c.notNull())
          .addColumn('locked_until', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('idempotency_keys_pk', ['owner', 'idem_key'])
          .execute();
        await db.schema.createIndex('idempotency_keys_by_created').on('idempotency_keys').column('created').execute();

        await db.schema
          .createTable('meta')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .execute();
      },
    },
    '0002_audit_log': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('audit_log')
          .addColumn('seq', autoIncrementKey.type, (c) =>
            autoIncrementKey.autoIncrement ? c.primaryKey().autoIncrement() : c.primaryKey(),
          )
          .addColumn('time', 'bigint', (c) => c.notNull())
          .addColumn('request_id', 'text', (c) => c.notNull())
          .addColumn('key_id', 'text')
          .addColumn('platform', 'text', (c) => c.notNull())
          .addColumn('account', 'text', (c) => c.notNull())
          .addColumn('livemode', 'integer', (c) => c.notNull())
          .addColumn('operation', 'text', (c) => c.notNull())
          .addColumn('scope_type', 'text', (c) => c.notNull())
          .addColumn('scope_user', 'text')
          .addColumn('name', 'text')
          .addColumn('outcome', 'text', (c) => c.notNull())
          .addColumn('status', 'integer', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('audit_log_by_time').on('audit_log').column('time').execute();
        await db.schema.createIndex('audit_log_by_name').on('audit_log').column('name').execute();
      },
    },
    /**
     * Names and users of up to 5,000 characters on every engine: the indexes over them hold digests
     * (row-keys.ts) or use a method without btree's row size limit, so no accepted value is refused.
     */
    '0003_digest_indexes': {
      async up(db: Kysely<unknown>) {
        for (const column of ['scope_key', 'name_key']) {
          // Nullable only because rows from before have none yet: every write sets both.
          await db.schema.alterTable('secrets').addColumn(column, engine.bytesType).execute();
        }
        await fillRowKeys(db as Kysely<RowKeysTables>);
        await db.schema.createIndex('secrets_by_name_key').on('secrets').column('name_key').unique().execute();
        await db.schema.createIndex('secrets_by_scope').on('secrets').columns(['scope_key', 'created', 'id']).execute();
        await db.schema.dropIndex('secrets_by_name').execute();
        if (engine.longTextIndexMethod) {
          await db.schema.dropIndex('audit_log_by_name').execute();
          await db.schema
            .createIndex('audit_log_by_name')
            .on('audit_log')
            .using(engine.longTextIndexMethod)
            .column('name')
            .execute();
        }
      },
    },
  };
};

/** The columns 0003 reads and writes, as they are at that migration. */
interface RowKeysTables {
  secrets: {
    id: string;
    platform: string;
    account: string;
    livemode: number;
    scope_type: string;
    scope_user: string;
    name: string;
    scope_key: Uint8Array | null;
    name_key: Uint8Array | null;
  };
}

/** Gives every row that has none its digests, a batch at a time. */
async function fillRowKeys(db: Kysely<RowKeysTables>): Promise<void> {
  for (;;) {
    const rows = await db
      .selectFrom('secrets')
      .select(['id', 'platform', 'account', 'livemode', 'scope_type', 'scope_user', 'name'])
      .where('name_key', 'is', null)
      .limit(500)
      .execute();
    if (rows.length === 0) return;
    for (const row of rows) {
      const scope = {
        platform: row.platform,
        account: row.account,
        livemode: Number(row.livemode),
        scopeType: row.scope_type,
        scopeUser: row.scope_user,
      };
      await db
        .updateTable('secrets')
        .set({ scope_key: scopeKeyOf(scope), name_key: nameKeyOf(scope, row.name) })
        .where('id', '=', row.id)
        .execute();
    }
  }
}

type MigratableEngine = Pick<StoreEngine, 'db' | 'capabilities' | 'migrationSchema'>;

const migrator = (engine: MigratableEngine) => {
  const provider: MigrationProvider = { getMigrations: async () => migrations(engine.capabilities) };
  return new Migrator({ db: engine.db, provider, migrationTableSchema: engine.migrationSchema });
};

/**
 * The names of the applied migrations, read straight from kysely's bookkeeping table in our own
 * schema; an empty set before the first migration. kysely's own checks introspect every schema of
 * the database, and on PostgreSQL they fail when another schema is dropped at that moment: every
 * start and every CLI command would be exposed to that, so the common case (nothing to do) never
 * goes through them.
 */
async function appliedMigrations(engine: MigratableEngine): Promise<Set<string>> {
  const table = engine.migrationSchema
    ? sql.id(engine.migrationSchema, 'kysely_migration')
    : sql.id('kysely_migration');
  try {
    const { rows } = await sql<{ name: string }>`select name from ${table}`.execute(engine.db);
    return new Set(rows.map((r) => r.name));
  } catch (error) {
    if (isMissingTableError(error)) return new Set();
    throw error;
  }
}

/**
 * Where the schema stands, from one read of the bookkeeping table: whether every known migration
 * has run, and the applied ones this release does not know.
 */
export async function schemaState(engine: MigratableEngine): Promise<{ current: boolean; newer: string[] }> {
  const applied = await appliedMigrations(engine);
  const known = migrations(engine.capabilities);
  return {
    current: Object.keys(known).every((name) => applied.has(name)),
    newer: [...applied].filter((name) => !(name in known)).sort(),
  };
}

/** True when every known migration has run; readiness and `migrate --check` use it. */
export async function migrationsCurrent(engine: MigratableEngine): Promise<boolean> {
  return (await schemaState(engine)).current;
}

/** Runs the migrations up to `name`, leaving the schema a database of an earlier version has (tests). */
export async function migrateTo(engine: MigratableEngine, name: string): Promise<void> {
  const { error } = await migrator(engine).migrateTo(name);
  if (error) throw error instanceof Error ? error : new Error(String(error));
}

/** Runs every migration not yet applied; returns the names it ran. */
export async function migrateToLatest(engine: MigratableEngine): Promise<string[]> {
  const { current, newer } = await schemaState(engine);
  if (newer.length > 0) throw new NewerSchemaError(newer);
  if (current) return [];
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator(engine).migrateToLatest();
    // The introspection race described above can still hit a real migration; it is worth a retry.
    if (error && attempt < 3 && isVanishedSchemaError(error)) continue;
    // Another instance migrated the same database at the same moment and committed first (behind a
    // transaction-pooling pooler kysely's session lock cannot keep them apart, postgres/pooler.ts):
    // every pending migration runs in one transaction, so once this one failed on the other's
    // work, that work is whole, and a second look finds nothing left to do.
    if (error && attempt < 3 && isConcurrentMigrationError(error)) {
      if (await migrationsCurrent(engine)) return [];
      continue;
    }
    if (error) throw error instanceof Error ? error : new Error(String(error));
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  }
}
