/** SecretStore over kysely: the same queries on SQLite and PostgreSQL. */
import type { ExpressionBuilder, Selectable } from 'kysely';
import type { StoreEngine } from './engine.js';
import type { Database, Db, SecretsTable } from './schema.js';
import type {
  InsertOutcome,
  PageRequest,
  PutOutcome,
  ScopeKey,
  SecretKey,
  SecretStore,
  StoredPage,
  StoredSecret,
} from './secret-store.js';

type SecretsEb = ExpressionBuilder<Database, 'secrets'>;

const inScope = (scope: ScopeKey) => (eb: SecretsEb) =>
  eb.and([
    eb('platform', '=', scope.platform),
    eb('account', '=', scope.account),
    eb('livemode', '=', scope.livemode ? 1 : 0),
    eb('scope_type', '=', scope.scopeType),
    eb('scope_user', '=', scope.scopeUser),
  ]);

const live = (now: number) => (eb: SecretsEb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]);

const named = (key: SecretKey) => (eb: SecretsEb) => eb.and([inScope(key)(eb), eb('name', '=', key.name)]);

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

const scopeLockKey = (s: ScopeKey) => JSON.stringify([s.platform, s.account, s.livemode, s.scopeType, s.scopeUser]);

export class SqlSecretStore implements SecretStore {
  private readonly db: Db;

  constructor(private readonly engine: StoreEngine) {
    this.db = engine.db;
  }

  /** Inside a write transaction with the scope locked: is the name taken, and is the scope full? */
  private async occupancy(trx: Db, secret: StoredSecret, rules: { now: number; maxPerScope: number }) {
    await this.engine.lockScope(trx, scopeLockKey(secret));
    const existing = await trx
      .selectFrom('secrets')
      .select('id')
      .where(named(secret))
      .where(live(rules.now))
      .executeTakeFirst();
    if (existing) return { existing: true, full: false };
    const { n } = await trx
      .selectFrom('secrets')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where(inScope(secret))
      .where(live(rules.now))
      .executeTakeFirstOrThrow();
    return { existing: false, full: Number(n) >= rules.maxPerScope };
  }

  private async upsert(trx: Db, secret: StoredSecret): Promise<void> {
    await trx
      .insertInto('secrets')
      .values({
        id: secret.id,
        platform: secret.platform,
        account: secret.account,
        livemode: secret.livemode ? 1 : 0,
        scope_type: secret.scopeType,
        scope_user: secret.scopeUser,
        name: secret.name,
        ciphertext: secret.ciphertext,
        created: secret.created,
        expires_at: secret.expiresAt,
      })
      .onConflict((oc) =>
        oc.columns(['platform', 'account', 'livemode', 'scope_type', 'scope_user', 'name']).doUpdateSet((eb) => ({
          id: eb.ref('excluded.id'),
          ciphertext: eb.ref('excluded.ciphertext'),
          created: eb.ref('excluded.created'),
          expires_at: eb.ref('excluded.expires_at'),
        })),
      )
      .execute();
  }

  put(secret: StoredSecret, rules: { now: number; maxPerScope: number }): Promise<PutOutcome> {
    return this.engine.writeTransaction(async (trx) => {
      const { existing, full } = await this.occupancy(trx, secret, rules);
      if (full) return 'scope_full';
      // Replace means a new secret: new id, new created, new expiry (README, decision G1). An expired
      // row that the sweep has not removed yet is replaced the same way.
      await this.upsert(trx, secret);
      return existing ? 'replaced' : 'created';
    });
  }

  insertIfAbsent(secret: StoredSecret, rules: { now: number; maxPerScope: number }): Promise<InsertOutcome> {
    return this.engine.writeTransaction(async (trx) => {
      const { existing, full } = await this.occupancy(trx, secret, rules);
      if (existing) return 'exists';
      const sameId = await trx.selectFrom('secrets').select('id').where('id', '=', secret.id).executeTakeFirst();
      if (sameId) return 'exists';
      if (full) return 'scope_full';
      await this.upsert(trx, secret);
      return 'inserted';
    });
  }

  async find(key: SecretKey, now: number): Promise<StoredSecret | undefined> {
    const row = await this.db.selectFrom('secrets').selectAll().where(named(key)).where(live(now)).executeTakeFirst();
    return row && toStored(row);
  }

  async findById(scope: ScopeKey, id: string, now: number): Promise<StoredSecret | undefined> {
    const row = await this.db
      .selectFrom('secrets')
      .selectAll()
      .where('id', '=', id)
      .where(inScope(scope))
      .where(live(now))
      .executeTakeFirst();
    return row && toStored(row);
  }

  remove(key: SecretKey, now: number): Promise<StoredSecret | undefined> {
    return this.engine.writeTransaction(async (trx) => {
      const row = await trx.selectFrom('secrets').selectAll().where(named(key)).where(live(now)).executeTakeFirst();
      if (!row) return undefined;
      await trx.deleteFrom('secrets').where('id', '=', row.id).execute();
      return toStored(row);
    });
  }

  async list(scope: ScopeKey, page: PageRequest, now: number): Promise<StoredPage> {
    const backwards = page.before !== undefined;
    const bound = page.after ?? page.before;
    const direction = backwards ? 'asc' : 'desc';
    let query = this.db.selectFrom('secrets').selectAll().where(inScope(scope)).where(live(now));
    if (bound) {
      const cmp = backwards ? '>' : '<';
      query = query.where((eb) =>
        eb.or([
          eb('created', cmp, bound.created),
          eb.and([eb('created', '=', bound.created), eb('id', cmp, bound.id)]),
        ]),
      );
    }
    const rows = await query
      .orderBy('created', direction)
      .orderBy('id', direction)
      .limit(page.limit + 1)
      .execute();
    const hasMore = rows.length > page.limit;
    const kept = rows.slice(0, page.limit).map(toStored);
    return { rows: backwards ? kept.reverse() : kept, hasMore };
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
