/** Registered API keys. Only a hash of each key is stored; the key itself is shown once at creation. */
import type { Selectable } from 'kysely';
import type { StoreEngine } from './engine.js';
import { type PreparedQuery, prepare } from './prepared-query.js';
import type { ApiKeysTable, Db } from './schema.js';

export interface ApiKeyRecord {
  readonly id: string;
  readonly keyHash: string;
  readonly display: string;
  readonly livemode: boolean;
  readonly platform: string;
  readonly userId: string | null;
  readonly created: number;
  readonly revokedAt: number | null;
}

export type RevokeOutcome = 'revoked' | 'already_revoked' | 'missing';

export interface ApiKeyStore {
  insert(record: ApiKeyRecord): Promise<void>;
  /** Inserts a key (a restored one) unless one with its id or hash exists; answers whether it did. */
  insertIfAbsent(record: ApiKeyRecord): Promise<boolean>;
  findByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  list(): Promise<ApiKeyRecord[]>;
  revoke(id: string, now: number): Promise<RevokeOutcome>;
}

const API_KEY_COLUMNS = [
  'id',
  'key_hash',
  'display',
  'livemode',
  'platform',
  'user_id',
  'created',
  'revoked_at',
] as const satisfies ReadonlyArray<keyof ApiKeysTable>;

const toRecord = (row: Selectable<ApiKeysTable>): ApiKeyRecord => ({
  id: row.id,
  keyHash: row.key_hash,
  display: row.display,
  livemode: Number(row.livemode) === 1,
  platform: row.platform,
  userId: row.user_id,
  created: Number(row.created),
  revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
});

const toRow = (r: ApiKeyRecord) => ({
  id: r.id,
  key_hash: r.keyHash,
  display: r.display,
  livemode: r.livemode ? 1 : 0,
  platform: r.platform,
  user_id: r.userId,
  created: r.created,
  revoked_at: r.revokedAt,
});

/** The most lookups kept (registered keys and unknown ones alike); the cache starts over when full. */
const LOOKUPS_KEPT = 10_000;

export class SqlApiKeyStore implements ApiKeyStore {
  /** Every authenticated request looks its key up, so the query is prepared once. */
  private readonly byHash: PreparedQuery<{ keyHash: string }, Selectable<ApiKeysTable>>;

  private readonly db: Db;
  private readonly externalChanges: (() => number) | undefined;
  /**
   * Lookups by hash (null: no such key), kept while nobody else changed the database: this process
   * forgets them at each change of its own, and at any other process's commit (`externalChanges`),
   * so a key revoked by the CLI is refused on the very next request. Engines that cannot tell
   * cheaply (PostgreSQL, shared by instances) get no cache.
   */
  private readonly lookups = new Map<string, ApiKeyRecord | null>();
  private seenChanges: number | undefined;
  /** Bumped before and after each change of this process's own, so no lookup straddling it is kept. */
  private ownChanges = 0;

  constructor(engine: Pick<StoreEngine, 'db' | 'runPrepared' | 'externalChanges'>) {
    const db = engine.db;
    this.db = db;
    this.externalChanges = engine.externalChanges;
    // Named columns, not `*`: a statement PostgreSQL keeps prepared must not change its result type.
    this.byHash = prepare(engine, (s) =>
      db.selectFrom('api_keys').select(API_KEY_COLUMNS).where('key_hash', '=', s.keyHash),
    );
  }

  /** Runs a change of the keys, forgetting every lookup kept, and any made while it runs. */
  private async changing<T>(change: () => Promise<T>): Promise<T> {
    this.ownChanges++;
    this.lookups.clear();
    try {
      return await change();
    } finally {
      this.ownChanges++;
      this.lookups.clear();
    }
  }

  insert(r: ApiKeyRecord): Promise<void> {
    return this.changing(async () => {
      await this.db.insertInto('api_keys').values(toRow(r)).execute();
    });
  }

  insertIfAbsent(r: ApiKeyRecord): Promise<boolean> {
    return this.changing(async () => {
      const result = await this.db
        .insertInto('api_keys')
        .values(toRow(r))
        .onConflict((c) => c.doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    });
  }

  async findByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    if (!this.externalChanges) return this.lookUp(keyHash);
    const changes = this.externalChanges();
    if (changes !== this.seenChanges) {
      this.lookups.clear();
      this.seenChanges = changes;
    }
    const kept = this.lookups.get(keyHash);
    if (kept !== undefined) return kept ?? undefined;
    const own = this.ownChanges;
    const record = await this.lookUp(keyHash);
    // Kept only if nothing changed meanwhile, here or elsewhere.
    if (this.ownChanges === own && this.externalChanges() === changes) {
      if (this.lookups.size >= LOOKUPS_KEPT) this.lookups.clear();
      this.lookups.set(keyHash, record ?? null);
    }
    return record;
  }

  private async lookUp(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const [row] = await this.byHash.rows(this.db, { keyHash });
    return row && toRecord(row);
  }

  async list(): Promise<ApiKeyRecord[]> {
    const rows = await this.db.selectFrom('api_keys').selectAll().orderBy('created').orderBy('id').execute();
    return rows.map(toRecord);
  }

  revoke(id: string, now: number): Promise<RevokeOutcome> {
    return this.changing(async () => {
      const result = await this.db
        .updateTable('api_keys')
        .set({ revoked_at: now })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 1) return 'revoked';
      const row = await this.db.selectFrom('api_keys').select('id').where('id', '=', id).executeTakeFirst();
      return row ? 'already_revoked' : 'missing';
    });
  }
}
