/**
 * The Secret Store's rules: create-or-replace by (name, scope), the per-scope cap, expiry, cursor
 * pagination and payload sealing. Input arrives already well-formed from the HTTP layer; the checks
 * here are the ones that need the clock or the store.
 */
import { payloadBinding } from '../crypto/bindings.js';
import { CorruptEnvelopeError, type PayloadCipher } from '../crypto/payload-cipher.js';
import { errors } from '../errors/api-error.js';
import type { ScopeKey, SecretKey, SecretRow, SecretStore, StoredSecret } from '../store/secret-store.js';
import type { OwnedClock } from './platform-clocks.js';
import { latestExpiry, MAX_SECRETS_PER_SCOPE, type Owner, type Scope, type Secret, type SecretPage } from './secret.js';

export interface SecretsServiceDeps {
  readonly store: SecretStore;
  readonly cipher: PayloadCipher;
  /** Milliseconds since the epoch, as each owner sees them (see platform-clocks.ts). */
  readonly clock: OwnedClock;
  readonly newId: () => string;
}

export interface SetSecretInput {
  readonly name: string;
  readonly payload: string;
  readonly scope: Scope;
  readonly expiresAt?: number;
}

export interface ListInput {
  readonly limit: number;
  readonly startingAfter?: string;
  readonly endingBefore?: string;
}

export interface ReadOptions {
  readonly withPayload: boolean;
}

const scopeKey = (owner: Owner, scope: Scope): ScopeKey => ({
  platform: owner.platform,
  account: owner.account,
  livemode: owner.livemode,
  scopeType: scope.type,
  scopeUser: scope.type === 'user' ? scope.user : '',
});

// Object.assign rather than spread on the request path: see scopeValues in store/sql-secret-store.ts.
const secretKey = (owner: Owner, scope: Scope, name: string): SecretKey =>
  Object.assign(scopeKey(owner, scope), { name });

/**
 * A user-bound caller may use account scope or its own user scope, nothing else. The request path
 * checks this before anything else reads or writes for the request (idempotency records included);
 * the service checks it again on every call.
 */
export function authorize(owner: Owner, scope: Scope): void {
  if (!owner.boundUser || scope.type === 'account' || scope.user === owner.boundUser) return;
  throw errors.permissionDenied(
    `This API key is bound to user '${owner.boundUser}': it can only access account-scoped secrets or secrets scoped to its own user.`,
    'scope[user]',
  );
}

const scopeOf = (row: ScopeKey): Scope =>
  row.scopeType === 'user' ? { type: 'user', user: row.scopeUser } : { type: 'account' };

/** The secret a row holds, without its payload. */
const describe = (row: SecretRow): Secret => ({
  id: row.id,
  created: row.created,
  expiresAt: row.expiresAt,
  livemode: row.livemode,
  name: row.name,
  scope: scopeOf(row),
});

export class SecretsService {
  constructor(private readonly deps: SecretsServiceDeps) {}

  /**
   * The same rules on another store: the store of one unit of work, so that a write commits with
   * what the request path records beside it. Domain errors are raised before the store writes.
   */
  using(store: SecretStore): SecretsService {
    return new SecretsService({ store, cipher: this.deps.cipher, clock: this.deps.clock, newId: this.deps.newId });
  }

  /** Unix seconds as `owner` sees them; the server's time without one. */
  private nowSeconds(owner?: Owner): number {
    return Math.floor(this.deps.clock(owner) / 1000);
  }

  private toSecret(row: StoredSecret, withPayload: boolean): Secret {
    return withPayload ? this.reveal(row) : describe(row);
  }

  /** The secret with its payload, opened from the row's envelope. */
  private reveal(row: StoredSecret): Secret {
    try {
      return Object.assign(describe(row), { payload: this.deps.cipher.open(row.ciphertext, payloadBinding(row)) });
    } catch (error) {
      if (error instanceof CorruptEnvelopeError) throw errors.corruptSecret(row.name);
      throw error;
    }
  }

  async set(owner: Owner, input: SetSecretInput, options: ReadOptions): Promise<Secret> {
    authorize(owner, input.scope);
    const now = this.nowSeconds(owner);
    if (input.expiresAt !== undefined) {
      if (input.expiresAt <= now) throw errors.expiresAtInPast();
      if (input.expiresAt > latestExpiry(now)) throw errors.expiresAtTooFar();
    }
    const key = secretKey(owner, input.scope, input.name);
    const row: StoredSecret = Object.assign(key, {
      id: this.deps.newId(),
      created: now,
      expiresAt: input.expiresAt ?? null,
      ciphertext: this.deps.cipher.seal(input.payload, payloadBinding(key)),
    });
    const outcome = await this.deps.store.put(row, { now, maxPerScope: MAX_SECRETS_PER_SCOPE });
    if (outcome === 'scope_full') throw errors.scopeFull(MAX_SECRETS_PER_SCOPE);
    const secret = this.toSecret(row, false);
    return options.withPayload ? Object.assign(secret, { payload: input.payload }) : secret;
  }

  async find(owner: Owner, name: string, scope: Scope, options: ReadOptions): Promise<Secret> {
    authorize(owner, scope);
    const row = await this.deps.store.find(secretKey(owner, scope, name), this.nowSeconds(owner));
    if (!row) throw errors.noSuchSecret(name);
    return this.toSecret(row, options.withPayload);
  }

  /** Deletes and returns the secret, without its payload: a deleted secret's payload is gone. */
  async delete(owner: Owner, name: string, scope: Scope): Promise<Secret> {
    authorize(owner, scope);
    const row = await this.deps.store.remove(secretKey(owner, scope, name), this.nowSeconds(owner));
    if (!row) throw errors.noSuchSecret(name);
    return this.toSecret(row, false);
  }

  async list(owner: Owner, scope: Scope, input: ListInput, options: ReadOptions): Promise<SecretPage> {
    authorize(owner, scope);
    const now = this.nowSeconds(owner);
    const key = scopeKey(owner, scope);
    const cursor = async (param: 'starting_after' | 'ending_before', id: string | undefined) => {
      if (id === undefined) return undefined;
      const row = await this.deps.store.findById(key, id, now);
      if (!row) throw errors.noSuchCursor(param, id);
      return { created: row.created, id: row.id };
    };
    const after = await cursor('starting_after', input.startingAfter);
    const before = await cursor('ending_before', input.endingBefore);
    const request = { limit: input.limit, after, before };
    if (!options.withPayload) {
      const page = await this.deps.store.list(key, request, now);
      return { secrets: page.rows.map(describe), hasMore: page.hasMore };
    }
    const page = await this.deps.store.listSealed(key, request, now);
    return { secrets: page.rows.map((row) => this.reveal(row)), hasMore: page.hasMore };
  }

  /**
   * Removes expired rows for good; reads already hide them, so this only reclaims space. By the
   * server's clock: a platform's own clock is never behind it, so no platform still sees these rows.
   */
  async sweepExpired(batchSize = 500): Promise<number> {
    const now = this.nowSeconds();
    let total = 0;
    for (;;) {
      const n = await this.deps.store.deleteExpired(now, batchSize);
      total += n;
      if (n < batchSize) return total;
    }
  }
}
