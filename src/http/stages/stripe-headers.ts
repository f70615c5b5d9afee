/**
 * The Stripe headers of a request: `Stripe-Version`, `Stripe-Account` and, on POSTs,
 * `Idempotency-Key`. Well-formed ones are echoed on every answer, errors included (the SDK copies
 * them onto the response and the error); a malformed one is refused here, and never written back.
 */
import type { IncomingMessage } from 'node:http';
import { errors } from '../../errors/api-error.js';
import { ACCOUNT_ID_PATTERN } from '../../keys/api-keys.js';
import { IDEMPOTENCY_KEY_MAX } from '../idempotency-guard.js';
import type { HeaderMap } from '../render.js';
import type { Stage } from '../request-context.js';

/** The API version stripe-node 23.x sends by default; answered when a request names none. */
export const DEFAULT_API_VERSION = '2026-10-28.endive';
const API_VERSION_PATTERN = /^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/;
const PRINTABLE = /^[\x20-\x7e]+$/;

export function singleHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export const validIdempotencyKey = (key: string): boolean => key.length <= IDEMPOTENCY_KEY_MAX && PRINTABLE.test(key);

const idempotencyKeyOf = (req: IncomingMessage) =>
  req.method === 'POST' ? singleHeader(req, 'idempotency-key') : undefined;

/** Part of rendering: writes the well-formed Stripe headers of the request onto its answer. */
export function echoStripeHeaders(req: IncomingMessage, headers: HeaderMap): void {
  const version = singleHeader(req, 'stripe-version');
  const account = singleHeader(req, 'stripe-account');
  const idempotencyKey = idempotencyKeyOf(req);
  if (version !== undefined && API_VERSION_PATTERN.test(version)) headers['Stripe-Version'] = version;
  if (account !== undefined && ACCOUNT_ID_PATTERN.test(account)) headers['Stripe-Account'] = account;
  if (idempotencyKey && validIdempotencyKey(idempotencyKey)) headers['Idempotency-Key'] = idempotencyKey;
}

export const stripeHeaders: Stage = (context) => {
  const { req } = context;
  const version = singleHeader(req, 'stripe-version');
  const account = singleHeader(req, 'stripe-account');
  const idempotencyKey = idempotencyKeyOf(req);
  context.stripeAccount = account;
  context.idempotencyKey = idempotencyKey;
  if (version !== undefined && !API_VERSION_PATTERN.test(version)) {
    throw errors.invalidApiVersion(version.slice(0, 100));
  }
  if (account !== undefined && !ACCOUNT_ID_PATTERN.test(account)) throw errors.invalidStripeAccount();
};
