/**
 * Idempotency records: key -> request fingerprint and saved response. Every step is a single
 * conditional statement, so concurrent requests (or server instances) with one key cannot both
 * claim it, on either engine.
 */
import type { Selectable } from 'kysely';
import type { StoreEngine } from './engine.js';
import { prepare } from './prepared-query.js';
import type { Db, IdempotencyKeysTable } from './schema.js';
import { type TransactionBound, withinTransaction } from './unit-of-work.js';

export interface ClaimRequest {
  readonly owner: string;
  readonly key: string;
  readonly fingerprint: string;
  readonly requestId: string;
  readonly now: number;
  /** How long an unfinished request holds the key before a retry may take it over (seconds). */
  readonly lockSeconds: number;
  /** Records older than this are forgotten: the key may be used afresh (seconds). */
  readonly ttlSeconds: number;
}

export type Claim =
  | { readonly kind: 'claimed' }
  | { readonly kind: 'in_flight' }
  /** The key was used for another request, whose fingerprint this is. */
  | { readonly kind: 'mismatch'; readonly fingerprint: string }
  | { readonly kind: 'replay'; readonly status: number; readonly body: string; readonly requestId: string };

export interface IdempotencyStore {
  claim(request: ClaimRequest): Promise<Claim>;
  complete(owner: string, key: string, requestId: string, status: number, body: string): Promise<void>;
  deleteOlderThan(cutoff: number): Promise<number>;
  /** Completed records after `after` in (owner, key) order, for re-encryption of saved bodies. */
  scanCompleted(after: RecordKey, limit: number): Promise<CompletedRecord[]>;
  /** Replaces a saved body only if it is still `expected`. */
  swapBody(record: RecordKey, expected: string, next: string): Promise<boolean>;
}

export interface RecordKey {
  readonly owner: string;
  readonly key: string;
}

export interface CompletedRecord extends RecordKey {
  readonly body: string;
}

interface RecordValues {
  readonly owner: string;
  readonly key: string;
}

/**
 * The statements of every write with an Idempotency-Key (stripe-node sends one on every POST),
 * built once (see prepared-query.ts): the claim's insert and its look at the record, and the
 * completion, whose result nothing needs and which may be held back (StoreEngine.deferWrite).
 */
function idempotencyQueries(engine: StoreEngine) {
  const db = engine.db;
  return {
    claim: prepare<
      RecordValues & { fingerprint: string; requestId: string; created: number; lockedUntil: number },
      never
    >(engine, (s) =>
      db
        .insertInto('idempotency_keys')
        .values({
          owner: s.owner,
          idem_key: s.key,
          fingerprint: s.fingerprint,
          request_id: s.requestId,
          created: s.created,
          locked_until: s.lockedUntil,
        })
        .onConflict((oc) => oc.columns(['owner', 'idem_key']).doNothing()),
    ),
    read: prepare<RecordValues, Selectable<IdempotencyKeysTable>>(engine, (s) =>
      db.selectFrom('idempotency_keys').selectAll().where('owner', '=', s.owner).where('idem_key', '=', s.key),
    ),
    complete: prepare<RecordValues & { requestId: string; status: number; body: string }, never>(engine, (s) =>
      db
        .updateTable('idempotency_keys')
        .set({ status: s.status, body: s.body })
        .where('owner', '=', s.owner)
        .where('idem_key', '=', s.key)
        .where('request_id', '=', s.requestId),
    ),
  };
}

type IdempotencyQueries = ReturnType<typeof idempotencyQueries>;

export class SqlIdempotencyStore implements IdempotencyStore, TransactionBound<SqlIdempotencyStore> {
  private readonly db: Db;
  private readonly q: IdempotencyQueries;

  /** Writes go through the engine's write path (on SQLite, the group commit). */
  constructor(
    private readonly engine: StoreEngine,
    queries?: IdempotencyQueries,
  ) {
    this.db = engine.db;
    // Compiled once per engine: a store bound to a transaction shares its parent's queries.
    this.q = queries ?? idempotencyQueries(engine);
  }

  within(trx: Db): SqlIdempotencyStore {
    return new SqlIdempotencyStore(withinTransaction(this.engine, trx), this.q);
  }

  claim(r: ClaimRequest): Promise<Claim> {
    return this.engine.writeTransaction((trx) => this.claimWith(trx, r));
  }

  private async claimWith(db: Db, r: ClaimRequest): Promise<Claim> {
    const fresh = {
      fingerprint: r.fingerprint,
      request_id: r.requestId,
      status: null,
      body: null,
      created: r.now,
      locked_until: r.now + r.lockSeconds,
    };
    const inserted = await this.q.claim.execute(db, {
      owner: r.owner,
      key: r.key,
      fingerprint: r.fingerprint,
      requestId: r.requestId,
      created: fresh.created,
      lockedUntil: fresh.locked_until,
    });
    if (Number(inserted.numAffectedRows ?? 0n) === 1) return { kind: 'claimed' };

    const [row] = await this.q.read.rows(db, { owner: r.owner, key: r.key });
    if (!row) return this.claimWith(db, r); // pruned between the two statements
    const expired = Number(row.created) <= r.now - r.ttlSeconds;
    const abandoned = row.status === null && Number(row.locked_until) <= r.now && row.fingerprint === r.fingerprint;
    if (expired || abandoned) {
      const taken = await db
        .updateTable('idempotency_keys')
        .set(fresh)
        .where('owner', '=', r.owner)
        .where('idem_key', '=', r.key)
        .where('request_id', '=', row.request_id)
        .executeTakeFirst();
      return Number(taken.numUpdatedRows) === 1 ? { kind: 'claimed' } : { kind: 'in_flight' };
    }
    if (row.fingerprint !== r.fingerprint) return { kind: 'mismatch', fingerprint: row.fingerprint };
    if (row.status === null || row.body === null) return { kind: 'in_flight' };
    return { kind: 'replay', status: row.status, body: row.body, requestId: row.request_id };
  }

  async complete(owner: string, key: string, requestId: string, status: number, body: string): Promise<void> {
    await this.engine.writeTransaction((trx) => this.q.complete.deferred(trx, { owner, key, requestId, status, body }));
  }

  async deleteOlderThan(cutoff: number): Promise<number> {
    const result = await this.db.deleteFrom('idempotency_keys').where('created', '<=', cutoff).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async scanCompleted(after: RecordKey, limit: number): Promise<CompletedRecord[]> {
    const rows = await this.db
      .selectFrom('idempotency_keys')
      .select(['owner', 'idem_key', 'body'])
      .where('body', 'is not', null)
      .where((eb) =>
        eb.or([eb('owner', '>', after.owner), eb.and([eb('owner', '=', after.owner), eb('idem_key', '>', after.key)])]),
      )
      .orderBy('owner')
      .orderBy('idem_key')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ owner: r.owner, key: r.idem_key, body: r.body ?? '' }));
  }

  async swapBody(record: RecordKey, expected: string, next: string): Promise<boolean> {
    const result = await this.db
      .updateTable('idempotency_keys')
      .set({ body: next })
      .where('owner', '=', record.owner)
      .where('idem_key', '=', record.key)
      .where('body', '=', expected)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}
