/**
 * Stripe's idempotency contract (fact 45) for POSTs that carry `Idempotency-Key`: the first request's
 * status and body are saved for 24 hours, per key owner; the same key with the same parameters
 * replays them (`Idempotent-Replayed: true`), with other parameters it is a 400 idempotency_error,
 * and while the first request still runs it is a 409 that stripe-node retries. Requests that fail
 * validation never reach this guard, so they are not saved. Saved bodies can contain an expanded
 * payload, so they are sealed like payloads.
 */
import { createHash } from 'node:crypto';
import { idempotencyBinding } from '../crypto/bindings.js';
import type { PayloadCipher } from '../crypto/payload-cipher.js';
import { type ApiError, errors } from '../errors/api-error.js';
import type { IdempotencyStore } from '../store/idempotency-store.js';
import type { FormValue } from './form-params.js';

export const IDEMPOTENCY_KEY_MAX = 255;
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
/** An unfinished request holds its key this long; after a crash, a retry can then take it over. */
const LOCK_SECONDS = 60;

export interface Outcome {
  readonly status: number;
  /** The error code of an error outcome. */
  readonly code?: string;
  readonly body: string;
  readonly headers?: Record<string, string>;
}

export interface GuardedOutcome extends Outcome {
  /** The request id of the original request when this outcome is a replay. */
  readonly replayOf?: string;
}

export interface IdempotentRequest {
  readonly owner: string;
  readonly key: string;
  readonly requestId: string;
  /** Everything that makes two requests "the same": method, path, account, parameters. */
  readonly identity: readonly FormValue[];
}

function canonical(value: FormValue | readonly FormValue[]): unknown {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((v) => canonical(v));
  const obj = value as Record<string, FormValue>;
  return Object.keys(obj)
    .sort()
    .map((k) => [k, canonical(obj[k] as FormValue)]);
}

export const fingerprintOf = (identity: readonly FormValue[]): string =>
  createHash('sha256')
    .update(JSON.stringify(canonical(identity)))
    .digest('hex');

/** Whether an error outcome is saved for replay: only those that say nothing was executed are not. */
const executedBeforeFailing = (error: ApiError) => error.code !== 'storage_unavailable';

export class IdempotencyGuard {
  constructor(
    private readonly store: IdempotencyStore,
    private readonly cipher: PayloadCipher,
    private readonly clock: () => number,
    private readonly toOutcome: (error: unknown) => { error: ApiError; outcome: Outcome },
  ) {}

  private seconds(): number {
    return Math.floor(this.clock() / 1000);
  }

  async run(request: IdempotentRequest, execute: () => Promise<Outcome>): Promise<GuardedOutcome> {
    const binding = idempotencyBinding(request.owner, request.key);
    const claim = await this.store.claim({
      owner: request.owner,
      key: request.key,
      fingerprint: fingerprintOf(request.identity),
      requestId: request.requestId,
      now: this.seconds(),
      lockSeconds: LOCK_SECONDS,
      ttlSeconds: IDEMPOTENCY_TTL_SECONDS,
    });
    switch (claim.kind) {
      case 'in_flight':
        throw errors.idempotencyInFlight();
      case 'mismatch':
        throw errors.idempotencyMismatch(request.key);
      case 'replay':
        return {
          status: claim.status,
          body: this.cipher.open(Buffer.from(claim.body, 'base64'), binding),
          // A replayed error carries Stripe-Should-Retry like a fresh one; saved errors are never
          // retryable (those that are, 409 in use and 503 unavailable, are never saved).
          headers: claim.status >= 400 ? { 'Stripe-Should-Retry': 'false' } : undefined,
          replayOf: claim.requestId,
        };
      case 'claimed':
        break;
    }
    let outcome: Outcome;
    try {
      outcome = await execute();
    } catch (thrown) {
      const { error, outcome: failed } = this.toOutcome(thrown);
      if (!executedBeforeFailing(error)) {
        await this.store.release(request.owner, request.key, request.requestId).catch(() => {});
        throw error;
      }
      outcome = failed;
    }
    const sealed = this.cipher.seal(outcome.body, binding).toString('base64');
    await this.store.complete(request.owner, request.key, request.requestId, outcome.status, sealed);
    return outcome;
  }

  /** Forgets records past the 24-hour window. */
  prune(): Promise<number> {
    return this.store.deleteOlderThan(this.seconds() - IDEMPOTENCY_TTL_SECONDS);
  }
}
