/**
 * The Stripe headers of a request (README, "Headers"): `Stripe-Version`, `Stripe-Context` or
 * `Stripe-Account`, and on POSTs `Idempotency-Key`. They are read once, before the stages run; the
 * accepted ones are echoed on every answer, errors included (the SDK copies them onto the response
 * and the error), and a malformed one is never written back. This stage refuses an API version
 * that does not exist; a malformed account is refused once the key is known (see authenticate.ts),
 * as Stripe names the key in that error.
 *
 * `Stripe-Context` supersedes `Stripe-Account` (docs.stripe.com/context): when both are sent, the
 * account comes from `Stripe-Context` alone. Either names an account (`acct_1`) or a path of
 * accounts from the key's own (`acct_1/acct_2`), and the request acts on the last one, which the
 * answer's `Stripe-Account` names, as Stripe's does (stripe/stripe-cli#1871).
 */
import type { IncomingMessage } from 'node:http';
import { errors } from '../../errors/api-error.js';
import { ACCOUNT_ID_PATTERN } from '../../keys/api-keys.js';
import { isAcceptedApiVersion } from '../api-version.js';
import { IDEMPOTENCY_KEY_MAX } from '../idempotency-guard.js';
import type { HeaderMap } from '../render.js';
import type { Stage } from '../request-context.js';

export type AccountHeader = 'Stripe-Context' | 'Stripe-Account';

export interface StripeHeaderValues {
  /** `Stripe-Version` as sent. */
  readonly version: string | undefined;
  readonly versionAccepted: boolean;
  /** The header that names the account to act on, if any. */
  readonly accountHeader: AccountHeader | undefined;
  /** That header's value as sent. */
  readonly accountPath: string | undefined;
  /** The account it names; undefined when none is named or the header is malformed. */
  readonly account: string | undefined;
  /** `Idempotency-Key` of a POST, as sent. */
  readonly idempotencyKey: string | undefined;
}

const ACCOUNT = ACCOUNT_ID_PATTERN.source.slice(1, -1);
const ACCOUNT_PATH = new RegExp(`^${ACCOUNT}(?:/${ACCOUNT}){0,7}$`);
const PRINTABLE = /^[\x20-\x7e]+$/;

export function singleHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export const validIdempotencyKey = (key: string): boolean => key.length <= IDEMPOTENCY_KEY_MAX && PRINTABLE.test(key);

/** The account an account header names: the last of its path. */
const accountOf = (path: string): string | undefined =>
  ACCOUNT_PATH.test(path) ? path.slice(path.lastIndexOf('/') + 1) : undefined;

/** Reads the Stripe headers; `nowMs` dates the newest API version that may exist. */
export function readStripeHeaders(req: IncomingMessage, nowMs: number): StripeHeaderValues {
  const version = singleHeader(req, 'stripe-version');
  const context = singleHeader(req, 'stripe-context');
  const accountPath = context ?? singleHeader(req, 'stripe-account');
  return {
    version,
    versionAccepted: version !== undefined && isAcceptedApiVersion(version, nowMs),
    accountHeader: context !== undefined ? 'Stripe-Context' : accountPath !== undefined ? 'Stripe-Account' : undefined,
    accountPath,
    account: accountPath === undefined ? undefined : accountOf(accountPath),
    idempotencyKey: req.method === 'POST' ? singleHeader(req, 'idempotency-key') : undefined,
  };
}

/** Part of rendering: writes the accepted Stripe headers of the request onto its answer. */
export function echoStripeHeaders(values: StripeHeaderValues, headers: HeaderMap): void {
  if (values.versionAccepted) headers['Stripe-Version'] = values.version as string;
  if (values.account !== undefined) {
    headers['Stripe-Account'] = values.account;
    if (values.accountHeader === 'Stripe-Context') headers['Stripe-Context'] = values.accountPath as string;
  }
  const key = values.idempotencyKey;
  if (key && validIdempotencyKey(key)) headers['Idempotency-Key'] = key;
}

export const stripeHeaders: Stage = (context) => {
  const { version, versionAccepted } = context.stripe;
  if (version !== undefined && !versionAccepted) throw errors.invalidApiVersion(version.slice(0, 100));
};
