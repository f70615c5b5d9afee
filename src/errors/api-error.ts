/**
 * The one error catalogue. Every error the API can answer with is built here, so each one fixes its
 * HTTP status, Stripe error `type` and `code` in a single place; stripe-node picks its error class
 * from the status (401, 403, 404, 409, 429, 5xx) and `type` (idempotency_error), so these pairs are
 * part of the wire contract. Only `http/render.ts` turns an ApiError into a response body.
 *
 * A `code` is sent only where Stripe sends that code (README, "Errors"): every one of them is in
 * stripe-node's list of Stripe's error codes (a test checks). Where Stripe sends none (401s, unknown
 * routes, API versions, expansion, content types, idempotency mismatches, server errors), neither do
 * we; the message says what went wrong. Messages are Stripe's words where they are known. `reason`
 * names every error for the request log, metrics and the audit log; it is never sent.
 *
 * This module has no framework imports: the domain layer throws these errors too.
 */

export type ErrorType = 'api_error' | 'idempotency_error' | 'invalid_request_error';

/** The Stripe error codes this server sends: each one only where Stripe sends it. */
export const STRIPE_ERROR_CODES = [
  'account_invalid',
  'api_key_expired',
  'idempotency_key_in_use',
  'parameter_invalid_empty',
  'parameter_invalid_integer',
  'parameter_missing',
  'parameter_unknown',
  'rate_limit',
  'resource_missing',
] as const;

export type StripeErrorCode = (typeof STRIPE_ERROR_CODES)[number];

export interface ApiErrorFields {
  readonly status: number;
  readonly type: ErrorType;
  /** Stripe's code, where Stripe sends one for this error. */
  readonly code?: StripeErrorCode;
  /** The error's name in logs and the audit log: the code when there is one. */
  readonly reason?: string;
  readonly message: string;
  readonly param?: string;
  /**
   * Whether the same request may succeed if sent again, written on every error as the
   * Stripe-Should-Retry header (stripe-node obeys it before its own rules). Default false: a 4xx
   * fails the same way again, and a 500 was saved for its idempotency key, so a retry replays it.
   */
  readonly shouldRetry?: boolean;
}

export class ApiError extends Error {
  readonly status: number;
  readonly type: ErrorType;
  readonly code: StripeErrorCode | undefined;
  readonly reason: string;
  readonly param: string | undefined;
  readonly shouldRetry: boolean;

  constructor(fields: ApiErrorFields) {
    super(fields.message);
    this.name = 'ApiError';
    this.status = fields.status;
    this.type = fields.type;
    this.code = fields.code;
    this.reason = fields.reason ?? fields.code ?? 'error';
    this.param = fields.param;
    this.shouldRetry = fields.shouldRetry ?? false;
  }
}

/** An invalid_request_error with Stripe's code. */
const coded = (code: StripeErrorCode, message: string, param?: string, status = 400): ApiError =>
  new ApiError({ status, type: 'invalid_request_error', code, message, param });

/** An invalid_request_error for which Stripe sends no code; `reason` names it in logs only. */
const uncoded = (reason: string, message: string, param?: string, status = 400): ApiError =>
  new ApiError({ status, type: 'invalid_request_error', reason, message, param });

const SUPPORT = 'If you need assistance, please contact the maintainers of this secret-store server.';

/** Longest parameter name an error repeats; the error schema caps `param` at 5000 characters. */
const MAX_SHOWN_NAME = 200;

/** A client-chosen parameter name, cut short so that `param` and `message` stay within the schema. */
const shownName = (name: string): string =>
  name.length <= MAX_SHOWN_NAME ? name : `${Array.from(name).slice(0, MAX_SHOWN_NAME).join('')}...`;

/** Stripe shows an over-long string by its first and last four characters. */
const abbreviated = (value: string): string => {
  const chars = Array.from(value);
  return `${chars.slice(0, 4).join('')}...${chars.slice(-4).join('')}`;
};

/** `a or b`, `a, b, or c`: how Stripe lists the values an enum accepts. */
const oneOf = (values: readonly string[]): string =>
  values.length <= 2 ? values.join(' or ') : `${values.slice(0, -1).join(', ')}, or ${values.at(-1)}`;

const STRIPE_HELP = 'Please see https://stripe.com/docs or we can help at https://support.stripe.com/.';

const TRAILING_SLASH_HINT =
  'If you are trying to list objects, remove the trailing slash. If you are trying to retrieve an object, make sure you passed a valid (non-empty) identifier in your code.';

export const errors = {
  // Routing
  unrecognizedUrl: (method: string, path: string) =>
    uncoded(
      'url_unrecognized',
      `Unrecognized request URL (${method}: ${path}). ${path.endsWith('/') ? `${TRAILING_SLASH_HINT} ` : ''}${STRIPE_HELP}`,
      undefined,
      404,
    ),

  // Authentication. stripe-node raises StripeAuthenticationError for any 401.
  missingApiKey: () =>
    uncoded(
      'api_key_missing',
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
      undefined,
      401,
    ),
  invalidApiKey: (maskedKey: string) =>
    uncoded('api_key_invalid', `Invalid API Key provided: ${maskedKey}`, undefined, 401),
  revokedApiKey: (maskedKey: string) =>
    coded('api_key_expired', `Expired API Key provided: ${maskedKey}`, undefined, 401),
  /** `shownHeader`: the Authorization header masked as a key is, since it may hold one. */
  malformedAuthorization: (shownHeader: string) =>
    uncoded(
      'api_key_invalid',
      `You did not provide an API key, though you did set your Authorization header to "${shownHeader}". Using Bearer auth, your Authorization header should look something like 'Authorization: Bearer YOUR_SECRET_KEY'. See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.`,
      undefined,
      401,
    ),
  /** A `Stripe-Account` or `Stripe-Context` that names no account the key may act on. */
  inaccessibleAccount: (maskedKey: string, account: string) =>
    coded(
      'account_invalid',
      `The provided key '${maskedKey}' does not have access to account '${account}' (or that account does not exist). Application access may have been revoked.`,
      undefined,
      403,
    ),
  invalidApiVersion: (version: string) => uncoded('api_version_invalid', `Invalid Stripe API version: ${version}`),
  // Emulator mode answers loopback host names only (DNS rebinding, see http/stages/check-host.ts).
  hostNotAllowed: (host: string) =>
    uncoded(
      'host_not_allowed',
      `This secret-store server runs in emulator mode and answers requests for loopback hosts only (localhost, 127.0.0.1, [::1]), not for '${host}'. To reach it under that name, start it with --allow-host ${host}.`,
      undefined,
      403,
    ),
  // 403 makes stripe-node raise StripePermissionError.
  permissionDenied: (message: string, param?: string) => uncoded('secret_access_denied', message, param, 403),

  // Request shape
  bodyTooLarge: (limitBytes: number) =>
    uncoded('request_too_large', `The request body is larger than the limit of ${limitBytes} bytes.`, undefined, 413),
  unsupportedContentType: (contentType: string) =>
    uncoded(
      'content_type_invalid',
      `Invalid request: unsupported Content-Type ${contentType}. If error persists and you need assistance, please contact support@stripe.com.`,
    ),
  invalidEncoding: (where: 'query string' | 'request body') =>
    uncoded(
      'encoding_invalid',
      `Invalid ${where}: it contains an invalid percent-escape or bytes that are not valid UTF-8.`,
    ),
  tooManyParameters: (limit: number) =>
    uncoded('parameters_too_many', `Too many parameters: at most ${limit} are accepted per request.`),
  nestingTooDeep: (name: string, limit: number) =>
    uncoded(
      'parameter_nesting_invalid',
      `Invalid parameter ${shownName(name)}: parameters can be nested at most ${limit} levels deep.`,
      shownName(name),
    ),
  nestingConflict: (name: string) =>
    uncoded(
      'parameter_nesting_invalid',
      `Invalid parameter ${shownName(name)}: it is sent both as a plain value and as a nested object or array.`,
      shownName(name),
    ),

  // Parameters
  unknownParameter: (name: string) =>
    coded('parameter_unknown', `Received unknown parameter: ${shownName(name)}`, shownName(name)),
  missingParameter: (param: string) => coded('parameter_missing', `Missing required param: ${param}.`, param),
  emptyParameter: (param: string) =>
    coded(
      'parameter_invalid_empty',
      `You passed an empty string for '${param}'. We assume empty values are an attempt to unset a parameter; however '${param}' cannot be unset. You should remove '${param}' from your request or supply a non-empty value.`,
      param,
    ),
  notAString: (param: string) => uncoded('string_invalid', 'Invalid string', param),
  notAnObject: (param: string) => uncoded('object_invalid', 'Invalid object', param),
  notAnArray: (param: string) => uncoded('array_invalid', 'Invalid array', param),
  // PostgreSQL text cannot hold U+0000 while SQLite can: refused on both engines alike.
  nulCharacter: (param: string) =>
    uncoded('string_nul', `Invalid string: ${param} must not contain the NUL character (U+0000).`, param),
  /** A secret value (the payload) is never repeated, not even in part. */
  stringTooLong: (param: string, value: string, max: number, secret: boolean) =>
    uncoded(
      'string_too_long',
      `Invalid string: ${secret ? '(not shown)' : abbreviated(value)}; must be at most ${max} characters`,
      param,
    ),
  invalidInteger: (param: string, value: string) =>
    coded('parameter_invalid_integer', `Invalid integer: ${value}`, param),
  invalidEnum: (param: string, allowed: readonly string[]) =>
    uncoded('enum_invalid', `Invalid ${param}: must be one of ${oneOf(allowed)}`, param),
  integerTooSmall: (param: string, min: number) =>
    uncoded('integer_out_of_range', `This value must be greater than or equal to ${min}.`, param),
  integerTooLarge: (param: string, max: number) =>
    uncoded('integer_out_of_range', `This value must be less than or equal to ${max}.`, param),
  bothCursors: () =>
    uncoded('cursors_exclusive', 'Received both starting_after and ending_before parameters. Please pass in only one.'),
  /** `hint`: the field that would expand what was asked for (on a list, under `data.`). */
  unexpandableField: (field: string, hint?: string) =>
    uncoded(
      'expand_invalid',
      `This property cannot be expanded (${shownName(field)}).${hint ? ` You may want to try expanding '${hint}' instead.` : ''}`,
    ),

  // Domain (Secret Store semantics)
  noSuchSecret: (name: string) => coded('resource_missing', `No such secret: '${name}'`, 'name', 404),
  noSuchCursor: (param: 'starting_after' | 'ending_before', id: string) =>
    coded('resource_missing', `No such secret: '${id}'`, param, 404),
  scopeFull: (max: number) =>
    uncoded(
      'secret_limit_reached',
      `You can store at most ${max} secrets in one scope. Delete at least 1 secret from this scope before you create a new one.`,
      'name',
    ),
  userScopeNeedsUser: () =>
    coded(
      'parameter_missing',
      "Missing required param: scope[user]. It is required when scope[type] is 'user'.",
      'scope[user]',
    ),
  accountScopeTakesNoUser: () =>
    coded(
      'parameter_unknown',
      "Received unknown parameter: scope[user]. It must not be provided when scope[type] is 'account'.",
      'scope[user]',
    ),
  expiresAtInPast: () =>
    uncoded('expires_at_invalid', 'Invalid expires_at: must be a unix timestamp in the future.', 'expires_at'),
  expiresAtTooFar: () =>
    uncoded('expires_at_invalid', 'Invalid expires_at: must be at most 100 years in the future.', 'expires_at'),

  // Idempotency (README, "Idempotency")
  idempotencyKeyInvalid: (max: number) =>
    uncoded('idempotency_key_invalid', `Invalid Idempotency-Key: it must be 1 to ${max} printable ASCII characters.`),
  idempotencyMismatch: (key: string) =>
    new ApiError({
      status: 400,
      type: 'idempotency_error',
      reason: 'idempotency_key_reused',
      message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
    }),
  idempotencyOtherEndpoint: (key: string, firstPath: string, path: string) =>
    new ApiError({
      status: 400,
      type: 'idempotency_error',
      reason: 'idempotency_key_reused',
      message: `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${firstPath}' vs '${path}'). Try using a key other than '${key}' if you meant to execute a different request.`,
    }),
  // 409 makes stripe-node retry with the same key, which is what a client should do here.
  idempotencyInFlight: () =>
    new ApiError({
      status: 409,
      type: 'invalid_request_error',
      code: 'idempotency_key_in_use',
      message: `There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through). Please try again later.`,
      shouldRetry: true,
    }),

  // Rate limiting. stripe-node raises StripeRateLimitError for a 429 and does not retry it.
  rateLimited: (limit: number, livemode: boolean) =>
    coded(
      'rate_limit',
      `Request rate limit exceeded. This account may make ${limit} requests per second in ${livemode ? 'live' : 'test'} mode; slow down and retry with exponential backoff.`,
      undefined,
      429,
    ),

  // The HTTP layer below the API (malformed or slow requests)
  malformedRequest: () => uncoded('request_malformed', 'The request is not valid HTTP/1.1.'),
  headersTooLarge: () =>
    uncoded('request_headers_too_large', 'The request headers are larger than the server accepts.', undefined, 431),
  requestTimeout: () =>
    uncoded('request_timeout', 'The request was not received in time; the connection is closed.', undefined, 408),

  // The test tools of emulator mode (README, "Testing your app")
  testToolsNeedTestKey: () =>
    new ApiError({
      status: 403,
      type: 'invalid_request_error',
      reason: 'test_tools_need_test_key',
      message:
        'The test tools under /_secret_store/ act on test mode only: call them with a test key (sk_test_... or rk_test_...).',
    }),
  testToolsNeedUnboundKey: (user: string) =>
    new ApiError({
      status: 403,
      type: 'invalid_request_error',
      reason: 'test_tools_need_unbound_key',
      message: `The test tools under /_secret_store/ act on a whole platform; this API key is bound to user '${user}'.`,
    }),
  clockBackwards: (max: number) =>
    coded(
      'parameter_invalid_integer',
      `Invalid advance: a clock only moves forward, by a whole number of seconds from 0 to ${max}.`,
      'advance',
    ),

  // Forwarding (--upstream)
  upstreamUnreachable: (upstream: string, reason: string) =>
    new ApiError({
      status: 502,
      type: 'api_error',
      reason: 'upstream_unreachable',
      message: `This secret-store server forwards what it does not answer itself to ${upstream}, which could not be reached (${reason}).`,
    }),

  // Server side: api_error, which Stripe sends without a code.
  internal: () =>
    new ApiError({
      status: 500,
      type: 'api_error',
      reason: 'internal_error',
      message: `An unexpected error occurred while processing the request. ${SUPPORT}`,
    }),
  storageUnavailable: () =>
    new ApiError({
      status: 503,
      type: 'api_error',
      reason: 'storage_unavailable',
      message: 'The secret store database is unavailable right now. Please retry shortly.',
      shouldRetry: true,
    }),
  corruptSecret: (name: string) =>
    new ApiError({
      status: 500,
      type: 'api_error',
      reason: 'secret_corrupted',
      message: `The stored payload of secret '${name}' failed its integrity check and cannot be read. ${SUPPORT}`,
    }),
} as const;
