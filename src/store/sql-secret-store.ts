/** SecretStore over kysely: the same queries on SQLite and PostgreSQL. */
import type { Selectable } from 'kysely';
import type { StoreEngine } from './engine.js';
import type { Db, SecretsTable } from './schema.js';
import {
  type Cursor,
  type FoundRow,
  type HotQueries,
  hotQueries,
  type ListedRow,
  live,
  type NamedValues,
  namedValues,
  type PageQueries,
  type ScopeValues,
  type SecretsColumn,
  scopeColumns,
  scopeValues,
  writeValues,
} from './secret-queries.js';
import type {
  InsertOutcome,
  PageRequest,
  PutOutcome,
  ScopeKey,
  SecretKey,
  SecretRow,
  SecretStore,
  StoredPage,
  StoredSecret,
} from './secret-store.js';
import { type TransactionBound, withinTransaction } from './unit-of-work.js';

function toStored(row: Selectable<SecretsTable>): StoredSecret {
  return {
    id: row.id,
    platform: row.platform,
    account: row.account,
    livemode: Number(row.livemode) === 1,
    scopeType: row.scope_type,
    scopeUser: row.scope_user,
    name: row.name,
    created: Number(row.created),
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    ciphertext: row.ciphertext,
  };
}

/**
 * A row of `scope` named `name`, from the columns a query read: the scope's fields come from the
 * scope the query asked for, not from the row, so queries need not read them back.
 */
type RowTimes = Pick<Selectable<SecretsTable>, 'id' | 'created' | 'expires_at'>;

const rowIn = (scope: ScopeKey, name: string, row: RowTimes): SecretRow => ({
  platform: scope.platform,
  account: scope.account,
  livemode: scope.livemode,
  scopeType: scope.scopeType,
  scopeUser: scope.scopeUser,
  name,
  id: row.id,
  created: Number(row.created),
  expiresAt: row.expires_at === null ? null : Number(row.expires_at),
});

/** The same with the row's envelope. */
const sealedIn = (scope: ScopeKey, name: string, row: RowTimes & { ciphertext: Uint8Array }): StoredSecret =>
  Object.assign(rowIn(scope, name, row), { ciphertext: row.ciphertext });

/** The stored secret found under `key`. */
const foundUnder = (key: SecretKey, row: FoundRow): StoredSecret => sealedIn(key, key.name, row);

const scopeLockKey = (s: ScopeKey) => JSON.stringify([s.platform, s.account, s.livemode, s.scopeType, s.scopeUser]);

const listedIn = (scope: ScopeKey, row: ListedRow): SecretRow => rowIn(scope, row.name, row);

/** The row of `secret`, whose digests `values` (from writeValues) already hold. */
const toRow = (secret: StoredSecret, values: NamedValues & ScopeValues): Selectable<SecretsTable> => ({
  id: secret.id,
  platform: secret.platform,
  account: secret.account,
  livemode: secret.livemode ? 1 : 0,
  scope_type: secret.scopeType,
  scope_user: secret.scopeUser,
  name: secret.name,
  scope_key: values.scopeKey,
  name_key: values.nameKey,
  ciphertext: secret.ciphertext,
  created: secret.created,
  expires_at: secret.expiresAt,
});

export class SqlSecretStore implements SecretStore, TransactionBound<SqlSecretStore> {
  private readonly db: Db;
  private readonly q: HotQueries;

  constructor(
    private readonly engine: StoreEngine,
    queries?: HotQueries,
  ) {
    this.db = engine.db;
    // Compiled once per engine: a store bound to a transaction shares its parent's queries.
    this.q = queries ?? hotQueries(engine);
  }

  within(trx: Db): SqlSecretStore {
    return new SqlSecretStore(withinTransaction(this.engine, trx), this.q);
  }

  /** Inside a write transaction with the scope locked: is the name taken, and is the scope full? */
  private async occupancy(trx: Db, values: NamedValues & ScopeValues, maxPerScope: number) {
    const [row] = await this.q.occupancy.rows(trx, values);
    const existing = row?.existing != null;
    return { existing, full: !existing && Number(row?.n ?? 0) >= maxPerScope };
  }

  put(secret: StoredSecret, rules: { now: number; maxPerScope: number }): Promise<PutOutcome> {
    const values = writeValues(secret, rules.now);
    return this.engine.writeTransaction(async (trx) => {
      const { existing, full } = await this.occupancy(trx, values, rules.maxPerScope);
      if (full) return 'scope_full';
      // Replace means a new secret: new id, new created, new expiry (README, decision G1). An expired
      // row that the sweep has not removed yet is replaced the same way. Nothing here needs the
      // upsert's result, so it may be held back to go with the next statement (StoreEngine.deferWrite).
      await this.q.upsert.deferred(trx, toRow(secret, values));
      return existing ? 'replaced' : 'created';
    }, scopeLockKey(secret));
  }

  insertIfAbsent(secret: StoredSecret, rules: { now: number; maxPerScope: number }): Promise<InsertOutcome> {
    const values = writeValues(secret, rules.now);
    return this.engine.writeTransaction(async (trx) => {
      const { existing, full } = await this.occupancy(trx, values, rules.maxPerScope);
      if (existing) return 'exists';
      const sameId = await trx.selectFrom('secrets').select('id').where('id', '=', secret.id).executeTakeFirst();
      if (sameId) return 'exists';
      if (full) return 'scope_full';
      await this.q.upsert.execute(trx, toRow(secret, values));
      return 'inserted';
    }, scopeLockKey(secret));
  }

  async find(key: SecretKey, now: number): Promise<StoredSecret | undefined> {
    const [row] = await this.q.find.rows(this.db, namedValues(key, now));
    return row && foundUnder(key, row);
  }

  async findById(scope: ScopeKey, id: string, now: number): Promise<StoredSecret | undefined> {
    const [row] = await this.q.findById.rows(this.db, Object.assign(scopeColumns(scope), { id, now }));
    return row && toStored(row);
  }

  remove(key: SecretKey, now: number): Promise<StoredSecret | undefined> {
    return this.engine.writeTransaction(async (trx) => {
      const [row] = await this.q.find.rows(trx, namedValues(key, now));
      if (!row) return undefined;
      await this.q.deleteById.deferred(trx, { id: row.id });
      return foundUnder(key, row);
    });
  }

  list(scope: ScopeKey, page: PageRequest, now: number): Promise<StoredPage<SecretRow>> {
    return this.page(this.q.listed, scope, page, now, (row) => listedIn(scope, row));
  }

  listSealed(scope: ScopeKey, page: PageRequest, now: number): Promise<StoredPage<StoredSecret>> {
    return this.page(this.q.sealed, scope, page, now, (row) => sealedIn(scope, row.name, row));
  }

  private async page<C extends SecretsColumn, T>(
    queries: PageQueries<C>,
    scope: ScopeKey,
    page: PageRequest,
    now: number,
    convert: (row: Pick<Selectable<SecretsTable>, C>) => T,
  ): Promise<StoredPage<T>> {
    const values = Object.assign(scopeValues(scope), { now, limit: page.limit + 1 });
    const bound = (cursor: Cursor) => Object.assign({}, values, { boundCreated: cursor.created, boundId: cursor.id });
    const rows = page.before
      ? await queries.before.rows(this.db, bound(page.before))
      : page.after
        ? await queries.after.rows(this.db, bound(page.after))
        : await queries.first.rows(this.db, values);
    const hasMore = rows.length > page.limit;
    // A page before a cursor is read oldest first; it is always returned newest first.
    const kept = rows.slice(0, page.limit);
    if (page.before) kept.reverse();
    return { rows: kept.map(convert), hasMore };
  }

  async deleteExpired(now: number, batchSize: number): Promise<number> {
    // Select-then-delete by id keeps each batch short and works on both engines; several sweepers
    // deleting the same ids simply find fewer rows.
    const ids = await this.db
      .selectFrom('secrets')
      .select('id')
      .where('expires_at', 'is not', null)
      .where('expires_at', '<=', now)
      .limit(batchSize)
      .execute();
    if (ids.length === 0) return 0;
    const result = await this.db
      .deleteFrom('secrets')
      .where(
        'id',
        'in',
        ids.map((r) => r.id),
      )
      .where('expires_at', '<=', now)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async count(): Promise<number> {
    const { n } = await this.db
      .selectFrom('secrets')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(n);
  }

  async countByMode(): Promise<{ test: number; live: number }> {
    const rows = await this.db
      .selectFrom('secrets')
      .select(['livemode', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('livemode')
      .execute();
    const count = (mode: number) => Number(rows.find((r) => Number(r.livemode) === mode)?.n ?? 0);
    return { test: count(0), live: count(1) };
  }

  exportLive(now: number, batchSize: number, onBatch: (rows: StoredSecret[]) => Promise<void>): Promise<number> {
    return this.engine.readSnapshot(async (trx) => {
      let afterId = '';
      let total = 0;
      for (;;) {
        const rows = await trx
          .selectFrom('secrets')
          .selectAll()
          .where('id', '>', afterId)
          .where(live(now))
          .orderBy('id')
          .limit(batchSize)
          .execute();
        if (rows.length === 0) return total;
        total += rows.length;
        await onBatch(rows.map(toStored));
        afterId = (rows.at(-1) as { id: string }).id;
      }
    });
  }

  async scan(afterId: string, limit: number): Promise<StoredSecret[]> {
    const rows = await this.db
      .selectFrom('secrets')
      .selectAll()
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toStored);
  }

  async swapCiphertext(id: string, expected: Uint8Array, next: Uint8Array): Promise<boolean> {
    const result = await this.db
      .updateTable('secrets')
      .set({ ciphertext: next })
      .where('id', '=', id)
      .where('ciphertext', '=', expected)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}
