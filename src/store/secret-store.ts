/**
 * The persistence contract for secrets. Implementations store and return rows; they know nothing of
 * HTTP or cryptography (the payload arrives already sealed) and enforce only what must be atomic:
 * one row per name in a scope, and the per-scope cap checked in the same transaction as the write.
 * Every read takes `now` (unix seconds) and ignores rows whose `expiresAt <= now`.
 */

export interface ScopeKey {
  readonly platform: string;
  readonly account: string;
  readonly livemode: boolean;
  readonly scopeType: string;
  /** '' for account scope. */
  readonly scopeUser: string;
}

export interface SecretKey extends ScopeKey {
  readonly name: string;
}

/** A row without its envelope: what a list needs when no payload is asked for. */
export interface SecretRow extends SecretKey {
  readonly id: string;
  readonly created: number;
  readonly expiresAt: number | null;
}

export interface StoredSecret extends SecretRow {
  readonly ciphertext: Uint8Array;
}

export interface PageRequest {
  readonly limit: number;
  /** Exclusive bound: rows older than `after` (newest first), or newer than `before`. */
  readonly after?: { readonly created: number; readonly id: string };
  readonly before?: { readonly created: number; readonly id: string };
}

export interface StoredPage<Row> {
  /** Always newest first. */
  readonly rows: readonly Row[];
  readonly hasMore: boolean;
}

export type PutOutcome = 'created' | 'replaced' | 'scope_full';
export type InsertOutcome = 'inserted' | 'exists' | 'scope_full';

export interface SecretStore {
  /**
   * Creates or replaces the row with the same name in the same scope. A new name is refused with
   * 'scope_full' when the scope already holds `maxPerScope` live rows.
   */
  put(secret: StoredSecret, rules: { readonly now: number; readonly maxPerScope: number }): Promise<PutOutcome>;
  /**
   * Inserts the row unless a live secret with its name (or its id) exists, within the cap: for
   * restoring a backup, which must never overwrite what is there.
   */
  insertIfAbsent(
    secret: StoredSecret,
    rules: { readonly now: number; readonly maxPerScope: number },
  ): Promise<InsertOutcome>;
  find(key: SecretKey, now: number): Promise<StoredSecret | undefined>;
  findById(scope: ScopeKey, id: string, now: number): Promise<StoredSecret | undefined>;
  /** Deletes the live row and returns it; undefined when there is none. */
  remove(key: SecretKey, now: number): Promise<StoredSecret | undefined>;
  /** A page of the scope's live rows, without their envelopes. */
  list(scope: ScopeKey, page: PageRequest, now: number): Promise<StoredPage<SecretRow>>;
  /** The same page with the envelopes, to open payloads. */
  listSealed(scope: ScopeKey, page: PageRequest, now: number): Promise<StoredPage<StoredSecret>>;
  /** Physically deletes up to `batchSize` expired rows; returns how many. */
  deleteExpired(now: number, batchSize: number): Promise<number>;
  count(): Promise<number>;
  /** Rows per mode, for the metrics. */
  countByMode(): Promise<{ test: number; live: number }>;
  /**
   * Every live row, in id order and batches, all from one consistent snapshot of the database
   * (writers carry on meanwhile): for backups.
   */
  exportLive(now: number, batchSize: number, onBatch: (rows: StoredSecret[]) => Promise<void>): Promise<number>;
  /** Up to `limit` rows with ids greater than `afterId`, in id order, for re-encryption. */
  scan(afterId: string, limit: number): Promise<StoredSecret[]>;
  /**
   * Replaces a row's envelope only if it is still `expected`, so a concurrent replace by a request
   * is never overwritten by a re-encryption. Returns whether it did.
   */
  swapCiphertext(id: string, expected: Uint8Array, next: Uint8Array): Promise<boolean>;
}
