/** SecretStore over kysely: the same queries on SQLite and PostgreSQL. */
import type { ExpressionBuilder, Selectable } from 'kysely';
import type { StoreEngine } from './engine.js';
import { prepare } from './prepared-query.js';
import { nameKeyOf, type ScopeColumns, scopeKeyOf } from './row-keys.js';
import type { Database, Db, SecretsTable } from './schema.js';
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

type SecretsEb = ExpressionBuilder<Database, 'secrets'>;

/** A scope as the columns hold it, with its digest. */
interface ScopeValues extends ScopeColumns {
  readonly scopeKey: Uint8Array;
}

/** A name in its scope as the columns hold it, with its digest (the scope's is not needed). */
interface NamedValues extends ScopeColumns {
  readonly name: string;
  readonly nameKey: Uint8Array;
  readonly now: number;
}

/*
 * The objects built for every request are extended with Object.assign, never with object spread: on
 * Node 20 the objects a spread built were promoted out of the young generation although they died
 * with their request (measured with --trace-gc-nvp: about 2 KB per find), which grew the old
 * generation under load until the next full collection and raised the peak RSS by tens of megabytes.
 */
const scopeColumns = (s: ScopeKey): ScopeColumns => ({
  platform: s.platform,
  account: s.account,
  livemode: s.livemode ? 1 : 0,
  scopeType: s.scopeType,
  scopeUser: s.scopeUser,
});

const scopeValues = (s: ScopeKey): ScopeValues => {
  const columns = scopeColumns(s);
  return Object.assign(columns, { scopeKey: scopeKeyOf(columns) });
};

const namedValues = (key: SecretKey, now: number): NamedValues => {
  const columns = scopeColumns(key);
  return Object.assign(columns, { name: key.name, nameKey: nameKeyOf(columns, key.name), now });
};

/** A write asks about the name and about its scope: both digests. */
const writeValues = (key: SecretKey, now: number): NamedValues & ScopeValues => {
  const values = namedValues(key, now);
  return Object.assign(values, { scopeKey: scopeKeyOf(values) });
};

const inScope = (scope: ScopeColumns) => (eb: SecretsEb) =>
  eb.and([
    eb('platform', '=', scope.platform),
    eb('account', '=', scope.account),
    eb('livemode', '=', scope.livemode),
    eb('scope_type', '=', scope.scopeType),
    eb('scope_user', '=', scope.scopeUser),
  ]);

/** The scope's rows, found through its digest (secrets_by_scope) and checked column by column. */
const ofScope = (scope: ScopeValues) => (eb: SecretsEb) =>
  eb.and([eb('scope_key', '=', scope.scopeKey), inScope(scope)(eb)]);

const live = (now: number) => (eb: SecretsEb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]);

/** The live row of a name, found through its digest (secrets_by_name_key) and checked. */
const named = (key: NamedValues) => (eb: SecretsEb) =>
  eb.and([eb('name_key', '=', key.nameKey), inScope(key)(eb), eb('name', '=', key.name), live(key.now)(eb)]);

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

const FOUND_COLUMNS = ['id', 'created', 'expires_at', 'ciphertext'] as const;
type FoundRow = Pick<Selectable<SecretsTable>, (typeof FOUND_COLUMNS)[number]>;

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

type Cursor = { readonly created: number; readonly id: string };
type PageValues = ScopeValues & { readonly now: number; readonly limit: number };
type BoundPageValues = PageValues & { readonly boundCreated: number; readonly boundId: string };

type SecretsColumn = keyof SecretsTable & string;

/** The three queries of a list page (first, after a cursor, before one), selecting `columns`. */
function pageQueries<C extends SecretsColumn>(db: Db, columns: readonly C[]) {
  type Row = Pick<Selectable<SecretsTable>, C>;
  const page = (direction: 'asc' | 'desc', s: PageValues) =>
    db
      .selectFrom('secrets')
      .select(columns)
      .where(ofScope(s))
      .where(live(s.now))
      .orderBy('created', direction)
      .orderBy('id', direction)
      .limit(s.limit);
  const boundedPage = (direction: 'asc' | 'desc', cmp: '<' | '>') =>
    prepare<BoundPageValues, Row>((s) =>
      page(direction, s).where((eb) =>
        eb.or([
          eb('created', cmp, s.boundCreated),
          eb.and([eb('created', '=', s.boundCreated), eb('id', cmp, s.boundId)]),
        ]),
      ),
    );
  return {
    first: prepare<PageValues, Row>((s) => page('desc', s)),
    after: boundedPage('desc', '<'),
    before: boundedPage('asc', '>'),
  };
}

type PageQueries<C extends SecretsColumn> = ReturnType<typeof pageQueries<C>>;

/** A page leaves out the envelopes unless asked: they are most of a row, and only payloads need them. */
const LISTED_COLUMNS = ['id', 'name', 'created', 'expires_at'] as const;
const SEALED_COLUMNS = [...LISTED_COLUMNS, 'ciphertext'] as const;
type ListedRow = Pick<Selectable<SecretsTable>, (typeof LISTED_COLUMNS)[number]>;

const listedIn = (scope: ScopeKey, row: ListedRow): SecretRow => rowIn(scope, row.name, row);

/** The queries every request runs, prepared once (see prepared-query.ts). */
function hotQueries(db: Db) {
  return {
    // Only the columns the key does not already give: fewer values to copy out of every find.
    find: prepare<NamedValues, FoundRow>((s) => db.selectFrom('secrets').select(FOUND_COLUMNS).where(named(s))),
    // One statement for both questions a write asks: is the name taken, and how full is the scope.
    occupancy: prepare<NamedValues & ScopeValues, { existing: string | null; n: number | string }>((s) =>
      db.selectNoFrom((eb) => [
        eb.selectFrom('secrets').select('id').where(named(s)).as('existing'),
        eb
          .selectFrom('secrets')
          .select((c) => c.fn.countAll().as('n'))
          .where(ofScope(s))
          .where(live(s.now))
          .as('n'),
      ]),
    ),
    findById: prepare<ScopeColumns & { id: string; now: number }, Selectable<SecretsTable>>((s) =>
      db.selectFrom('secrets').selectAll().where('id', '=', s.id).where(inScope(s)).where(live(s.now)),
    ),
    deleteById: prepare<{ id: string }, never>((s) => db.deleteFrom('secrets').where('id', '=', s.id)),
    upsert: prepare<Selectable<SecretsTable>, never>((s) =>
      db
        .insertInto('secrets')
        .values({
          id: s.id,
          platform: s.platform,
          account: s.account,
          livemode: s.livemode,
          scope_type: s.scope_type,
          scope_user: s.scope_user,
          name: s.name,
          scope_key: s.scope_key,
          name_key: s.name_key,
          ciphertext: s.ciphertext,
          created: s.created,
          expires_at: s.expires_at,
        })
        .onConflict((oc) =>
          oc.column('name_key').doUpdateSet((eb) => ({
            id: eb.ref('excluded.id'),
            ciphertext: eb.ref('excluded.ciphertext'),
            created: eb.ref('excluded.created'),
            expires_at: eb.ref('excluded.expires_at'),
          })),
        ),
    ),
    listed: pageQueries(db, LISTED_COLUMNS),
    sealed: pageQueries(db, SEALED_COLUMNS),
  };
}

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
  private readonly q: ReturnType<typeof hotQueries>;

  constructor(
    private readonly engine: StoreEngine,
    queries?: ReturnType<typeof hotQueries>,
  ) {
    this.db = engine.db;
    // Compiled once per engine: a store bound to a transaction shares its parent's queries.
    this.q = queries ?? hotQueries(engine.db);
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
      // row that the sweep has not removed yet is replaced the same way.
      await this.q.upsert.execute(trx, toRow(secret, values));
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
      await this.q.deleteById.execute(trx, { id: row.id });
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
