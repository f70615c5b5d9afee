/**
 * Stripe's idempotency contract (README, "Idempotency") for POSTs that carry `Idempotency-Key`: the
 * first request's status and body are saved for 24 hours; the same key with the same parameters
 * replays them (`Idempotent-Replayed: true`), with other parameters or on another endpoint it is a
 * 400 idempotency_error, and while the first request still runs it is a 409 that stripe-node retries.
 *
 * The guard runs inside the request's unit of work: the claim, the write it guards and the saved
 * response commit together or not at all, so a crash never leaves a claim without its response nor
 * a write without its record. Records belong to the caller (platform, mode, key, user binding), and
 * the request is authorized before any record is read, so a replay only ever answers a request its
 * caller could make now. Saved bodies can contain an expanded payload, so they are sealed like
 * payloads.
 */
import { createHash } from 'node:crypto';
import { idempotencyBinding } from '../crypto/bindings.js';
import type { PayloadCipher } from '../crypto/payload-cipher.js';
import { errors } from '../errors/api-error.js';
import type { Principal } from '../keys/api-keys.js';
import type { ClockOwner, OwnedClock } from '../secrets/platform-clocks.js';
import type { IdempotencyStore } from '../store/idempotency-store.js';
import type { FormValue } from './form-params.js';

export const IDEMPOTENCY_KEY_MAX = 255;
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
/** An unfinished record (left by an older version) holds its key this long before a retry takes it. */
const LOCK_SECONDS = 60;

export interface Outcome {
  readonly status: number;
  /** What went wrong, for an error outcome: its Stripe code or its name (ApiError.reason). */
  readonly reason?: string;
  readonly body: string;
  readonly headers?: Record<string, string>;
}

export interface Replay extends Outcome {
  /** The request id of the original request. */
  readonly replayOf: string;
}

export interface IdempotentRequest {
  /** Whose record it is: see `recordOwner`. */
  readonly owner: string;
  readonly key: string;
  readonly requestId: string;
  /**
   * The endpoint's path, then a digest of everything that makes two requests "the same": method,
   * path, account, parameters (see `fingerprintOf`).
   */
  readonly fingerprint: string;
  /** Whose clock the record's times are read on; the server's clock without one. */
  readonly clockOwner?: ClockOwner;
}

/**
 * The namespace of a caller's records: platform and mode, the key itself (a registered key's id, a
 * digest of an emulator key) and the user the key is bound to. Another key sending the same
 * Idempotency-Key starts a record of its own (README, "Idempotency").
 */
export const recordOwner = (principal: Principal): string =>
  `${recordOwnerPrefix(principal)}${principal.caller}:${principal.user ?? ''}`;

/** How the owners of every record of one platform in one mode begin. */
export const recordOwnerPrefix = (owner: ClockOwner): string =>
  `${owner.platform}:${owner.livemode ? 'live' : 'test'}:`;

function canonical(value: FormValue | readonly FormValue[]): unknown {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((v) => canonical(v));
  const obj = value as Record<string, FormValue>;
  return Object.keys(obj)
    .sort()
    .map((k) => [k, canonical(obj[k] as FormValue)]);
}

/**
 * `<path> <digest>`: the path in clear, so that a key reused on another endpoint gets Stripe's
 * message naming both. Records written before had the digest alone.
 */
export const fingerprintOf = (path: string, identity: readonly FormValue[]): string =>
  `${path} ${createHash('sha256')
    .update(JSON.stringify(canonical(identity)))
    .digest('hex')}`;

const pathOf = (fingerprint: string): string | undefined => {
  const space = fingerprint.indexOf(' ');
  return space === -1 ? undefined : fingerprint.slice(0, space);
};

export class IdempotencyGuard {
  constructor(
    private readonly cipher: PayloadCipher,
    private readonly clock: OwnedClock,
  ) {}

  private seconds(owner?: ClockOwner): number {
    return Math.floor(this.clock(owner) / 1000);
  }

  /**
   * Claims the key for this request in `store` (bound to the unit of work); answers the saved
   * response when there is one to replay, undefined when the request is to run.
   */
  async claim(store: IdempotencyStore, request: IdempotentRequest): Promise<Replay | undefined> {
    const claim = await store.claim({
      owner: request.owner,
      key: request.key,
      fingerprint: request.fingerprint,
      requestId: request.requestId,
      now: this.seconds(request.clockOwner),
      lockSeconds: LOCK_SECONDS,
      ttlSeconds: IDEMPOTENCY_TTL_SECONDS,
    });
    switch (claim.kind) {
      case 'in_flight':
        throw errors.idempotencyInFlight();
      case 'mismatch': {
        const firstPath = pathOf(claim.fingerprint);
        const path = pathOf(request.fingerprint) as string;
        throw firstPath !== undefined && firstPath !== path
          ? errors.idempotencyOtherEndpoint(request.key, firstPath, path)
          : errors.idempotencyMismatch(request.key);
      }
      case 'replay':
        return {
          status: claim.status,
          body: this.cipher.open(Buffer.from(claim.body, 'base64'), idempotencyBinding(request.owner, request.key)),
          // A replayed error carries Stripe-Should-Retry like a fresh one; saved errors are never
          // retryable (those that are, 409 in use and 503 unavailable, are never saved).
          headers: claim.status >= 400 ? { 'Stripe-Should-Retry': 'false' } : undefined,
          replayOf: claim.requestId,
        };
      case 'claimed':
        return undefined;
    }
  }

  /** Saves the outcome of a claimed request, in the same unit of work as the claim. */
  async complete(store: IdempotencyStore, request: IdempotentRequest, outcome: Outcome): Promise<void> {
    const sealed = this.cipher.seal(outcome.body, idempotencyBinding(request.owner, request.key)).toString('base64');
    await store.complete(request.owner, request.key, request.requestId, outcome.status, sealed);
  }

  /** Forgets records past the 24-hour window, by the server's clock (never behind a platform's). */
  prune(store: IdempotencyStore): Promise<number> {
    return store.deleteOlderThan(this.seconds() - IDEMPOTENCY_TTL_SECONDS);
  }
}
