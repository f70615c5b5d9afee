/**
 * Prepares the idempotency record of a POST that carries `Idempotency-Key`: whose it is and the
 * fingerprint of what was asked. The record is claimed, and replayed or saved, in the execute stage,
 * inside the request's unit of work.
 */
import { errors } from '../../errors/api-error.js';
import { fingerprintOf, IDEMPOTENCY_KEY_MAX, recordOwner } from '../idempotency-guard.js';
import type { Stage } from '../request-context.js';
import { validIdempotencyKey } from './stripe-headers.js';

export const idempotency: Stage = (context) => {
  const key = context.stripe.idempotencyKey;
  if (key === undefined || key === '') return;
  if (!validIdempotencyKey(key)) throw errors.idempotencyKeyInvalid(IDEMPOTENCY_KEY_MAX);
  const { record, owner, params, endpoint } = context;
  context.idempotent = {
    owner: recordOwner(context.principal),
    key,
    requestId: record.requestId,
    fingerprint: fingerprintOf(endpoint.path, [endpoint.method, endpoint.path, owner.account, params]),
    clockOwner: owner,
  };
};
