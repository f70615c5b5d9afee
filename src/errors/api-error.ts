/**
 * The one error catalogue. Every error the API can answer with is built here, so each one fixes its
 * HTTP status, Stripe error `type` and `code` in a single place; stripe-node picks its error class
 * from the status (401, 403, 404, 409, 429, 5xx) and `type` (idempotency_error), so these pairs are
 * part of the wire contract. Only `http/render-error.ts` turns an ApiError into a response body.
 *
 * This module has no framework imports: the domain layer throws these errors too.
 */

export type ErrorType = 'api_error' | 'idempotency_error' | 'invalid_request_error';

export interface ApiErrorFields {
  readonly status: number;
  readonly type: ErrorType;
  /** One of Stripe's error codes; none where Stripe sends none. */
  readonly code?: string;
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
  readonly code: string | undefined;
  readonly param: string | undefined;
  readonly shouldRetry: boolean;

  constructor(fields: ApiErrorFields) {
    super(fields.message);
    this.name = 'ApiError';
    this.status = fields.status;
    this.type = fields.type;
    this.code = fields.code;
    this.param = fields.param;
    this.shouldRetry = fields.shouldRetry ?? false;
  }
}

const invalid = (code: string, message: string, param?: string, status = 400): ApiError =>
  new ApiError({ status, type: 'invalid_request_error', code, message, param });

const SUPPORT = 'If you need assistance, please contact the maintainers of this secret-store server.';

/** Longest parameter name an error repeats; the error schema caps `param` at 5000 characters. */
const MAX_SHOWN_NAME = 200;

/** A client-chosen parameter name, cut short so that `param` and `message` stay within the schema. */
const shownName = (name: string): string =>
  name.length <= MAX_SHOWN_NAME ? name : `${Array.from(name).slice(0, MAX_SHOWN_NAME).join('')}...`;

export const errors = {
  // Routing
  unrecognizedUrl: (method: string, path: string) =>
    invalid(
      'resource_missing',
      `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
      undefined,
      404,
    ),

  // Authentication. stripe-node raises StripeAuthenticationError for any 401.
  missingApiKey: () =>
    invalid(
      'api_key_missing',
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
      undefined,
      401,
    ),
  invalidApiKey: (maskedKey: string) =>
    invalid('api_key_invalid', `Invalid API Key provided: ${maskedKey}`, undefined, 401),
  revokedApiKey: (maskedKey: string) =>
    invalid('api_key_expired', `Expired API Key provided: ${maskedKey}`, undefined, 401),
  malformedAuthorization: () =>
    invalid(
      'api_key_invalid',
      "Invalid Authorization header. Use 'Authorization: Bearer YOUR_SECRET_KEY' or HTTP Basic auth with the key as the username and an empty password.",
      undefined,
      401,
    ),
  invalidStripeAccount: () =>
    invalid(
      'account_invalid',
      "The 'Stripe-Account' header must be a connected account id of the form 'acct_...'.",
      undefined,
      403,
    ),
  invalidApiVersion: (version: string) =>
    invalid(
      'api_version_invalid',
      `Invalid Stripe API version: ${version}. Versions look like 2026-10-28.endive or 2024-06-20.`,
    ),
  // Emulator mode answers loopback host names only (DNS rebinding, see http/stages/check-host.ts).
  // Stripe has no error code for this, so there is none.
  hostNotAllowed: (host: string) =>
    new ApiError({
      status: 403,
      type: 'invalid_request_error',
      message: `This secret-store server runs in emulator mode and answers requests for loopback hosts only (localhost, 127.0.0.1, [::1]), not for '${host}'. To reach it under that name, start it with --allow-host ${host}.`,
    }),
  // 403 makes stripe-node raise StripePermissionError.
  permissionDenied: (message: string, param?: string) => invalid('secret_access_denied', message, param, 403),

  // Request shape
  bodyTooLarge: (limitBytes: number) =>
    invalid('request_too_large', `The request body is larger than the limit of ${limitBytes} bytes.`, undefined, 413),
  unsupportedContentType: (contentType: string) =>
    invalid(
      'content_type_invalid',
      `Unsupported Content-Type '${contentType}'. Send parameters as application/x-www-form-urlencoded.`,
    ),
  invalidEncoding: (where: 'query string' | 'request body') =>
    invalid(
      'parameter_invalid_encoding',
      `Invalid ${where}: it contains an invalid percent-escape or bytes that are not valid UTF-8.`,
    ),
  tooManyParameters: (limit: number) =>
    invalid('parameters_too_many', `Too many parameters: at most ${limit} are accepted per request.`),
  nestingTooDeep: (name: string, limit: number) =>
    invalid(
      'parameter_invalid_nesting',
      `Invalid parameter ${shownName(name)}: parameters can be nested at most ${limit} levels deep.`,
      shownName(name),
    ),
  nestingConflict: (name: string) =>
    invalid(
      'parameter_invalid_nesting',
      `Invalid parameter ${shownName(name)}: it is sent both as a plain value and as a nested object or array.`,
      shownName(name),
    ),

  // Parameters (codes from stripe-node's error code list; messages as Stripe words them)
  unknownParameter: (name: string) =>
    invalid('parameter_unknown', `Received unknown parameter: ${shownName(name)}`, shownName(name)),
  missingParameter: (param: string) => invalid('parameter_missing', `Missing required param: ${param}.`, param),
  emptyParameter: (param: string) =>
    invalid(
      'parameter_invalid_empty',
      `You passed an empty string for '${param}'. We assume empty values are an attempt to unset a parameter; however '${param}' cannot be unset. You should remove '${param}' from your request or supply a non-empty value.`,
      param,
    ),
  notAString: (param: string) =>
    invalid('parameter_invalid_string', `Invalid string: ${param} must be a string.`, param),
  notAnObject: (param: string) =>
    invalid('parameter_invalid_object', `Invalid object: ${param} must be an object.`, param),
  notAnArray: (param: string) => invalid('parameter_invalid_array', `Invalid array: ${param} must be an array.`, param),
  nulCharacter: (param: string) =>
    invalid('parameter_invalid_string', `Invalid string: ${param} must not contain the NUL character (U+0000).`, param),
  stringTooLong: (param: string, max: number) =>
    invalid('parameter_invalid_string', `Invalid string: ${param} must be at most ${max} characters long.`, param),
  invalidInteger: (param: string, value: string) =>
    invalid('parameter_invalid_integer', `Invalid integer: ${value}`, param),
  invalidEnum: (param: string, value: string, allowed: readonly string[]) =>
    invalid(
      'parameter_invalid_enum',
      `Invalid ${param}: must be one of ${allowed.join(' or ')} (got '${value}').`,
      param,
    ),
  integerOutOfRange: (param: string, min: number, max: number) =>
    invalid('parameter_invalid_integer', `Invalid ${param}: must be an integer between ${min} and ${max}.`, param),
  exclusiveParameters: (a: string, b: string) =>
    invalid('parameters_exclusive', `You may only specify one of these parameters: ${a}, ${b}.`, a),
  unexpandableField: (field: string, allowed: readonly string[]) =>
    invalid(
      'parameter_invalid_expand',
      `This property cannot be expanded (${field}). Fields you can expand here: ${allowed.join(', ')}.`,
      'expand',
    ),

  // Domain (Secret Store semantics)
  noSuchSecret: (name: string) => invalid('resource_missing', `No such secret: '${name}'`, 'name', 404),
  noSuchCursor: (param: 'starting_after' | 'ending_before', id: string) =>
    invalid('resource_missing', `No such secret: '${id}'`, param, 404),
  scopeFull: (max: number) =>
    invalid(
      'secret_limit_reached',
      `You can store at most ${max} secrets in one scope. Delete at least 1 secret from this scope before you create a new one.`,
      'name',
    ),
  userScopeNeedsUser: () =>
    invalid(
      'parameter_missing',
      "Missing required param: scope[user]. It is required when scope[type] is 'user'.",
      'scope[user]',
    ),
  accountScopeTakesNoUser: () =>
    invalid(
      'parameter_unknown',
      "Received unknown parameter: scope[user]. It must not be provided when scope[type] is 'account'.",
      'scope[user]',
    ),
  expiresAtInPast: () =>
    invalid('parameter_invalid_integer', 'Invalid expires_at: must be a unix timestamp in the future.', 'expires_at'),
  expiresAtTooFar: () =>
    invalid('parameter_invalid_integer', 'Invalid expires_at: must be at most 100 years in the future.', 'expires_at'),

  // Idempotency (README, "Idempotency")
  idempotencyKeyInvalid: (max: number) =>
    invalid('idempotency_key_invalid', `Invalid Idempotency-Key: it must be 1 to ${max} printable ASCII characters.`),
  idempotencyMismatch: (key: string) =>
    new ApiError({
      status: 400,
      type: 'idempotency_error',
      code: 'idempotency_key_reused',
      message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
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
    invalid(
      'rate_limit',
      `Request rate limit exceeded: this account may make ${limit} requests per second in ${livemode ? 'live' : 'test'} mode. Slow down and retry with exponential backoff.`,
      undefined,
      429,
    ),

  // The HTTP layer below the API (malformed or slow requests)
  malformedRequest: () => invalid('request_malformed', 'The request is not valid HTTP/1.1.'),
  headersTooLarge: () =>
    invalid('request_headers_too_large', 'The request headers are larger than the server accepts.', undefined, 431),
  requestTimeout: () =>
    invalid('request_timeout', 'The request was not received in time; the connection is closed.', undefined, 408),

  // Server side
  internal: () =>
    new ApiError({
      status: 500,
      type: 'api_error',
      code: 'internal_error',
      message: `An unexpected error occurred while processing the request. ${SUPPORT}`,
    }),
  storageUnavailable: () =>
    new ApiError({
      status: 503,
      type: 'api_error',
      code: 'storage_unavailable',
      message: 'The secret store database is unavailable right now. Please retry shortly.',
      shouldRetry: true,
    }),
  corruptSecret: (name: string) =>
    new ApiError({
      status: 500,
      type: 'api_error',
      code: 'secret_corrupted',
      message: `The stored payload of secret '${name}' failed its integrity check and cannot be read. ${SUPPORT}`,
      shouldRetry: false,
    }),
} as const;
