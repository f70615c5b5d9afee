/** Error classes that mirror stripe-node's, chosen the way stripe-node chooses them. */

export interface ErrorDetails {
  message: string;
  type?: string;
  code?: string;
  param?: string;
  docUrl?: string;
  statusCode?: number;
  requestId?: string;
  /** The `Stripe-Should-Retry` header, when the server sent one. */
  shouldRetry?: boolean;
}

export class SecretStoreError extends Error {
  readonly type: string | undefined;
  readonly code: string | undefined;
  readonly param: string | undefined;
  readonly docUrl: string | undefined;
  readonly statusCode: number | undefined;
  readonly requestId: string | undefined;
  readonly shouldRetry: boolean | undefined;

  constructor(details: ErrorDetails) {
    super(details.message);
    this.name = new.target.name;
    this.type = details.type;
    this.code = details.code;
    this.param = details.param;
    this.docUrl = details.docUrl;
    this.statusCode = details.statusCode;
    this.requestId = details.requestId;
    this.shouldRetry = details.shouldRetry;
  }
}

export class InvalidRequestError extends SecretStoreError {}
export class AuthenticationError extends SecretStoreError {}
export class PermissionError extends SecretStoreError {}
export class IdempotencyError extends SecretStoreError {}
export class RateLimitError extends SecretStoreError {}
export class ApiError extends SecretStoreError {}
/** The request never got an answer: refused, reset, timed out or aborted. */
export class ConnectionError extends SecretStoreError {}

/** stripe-node's rule (Error.js generateV1Error): by status, then by type and code. */
export function errorFromResponse(details: ErrorDetails & { statusCode: number }): SecretStoreError {
  const { statusCode, type, code } = details;
  if (statusCode === 429 || (statusCode === 400 && code === 'rate_limit')) return new RateLimitError(details);
  if (statusCode === 400 || statusCode === 404) {
    return type === 'idempotency_error' ? new IdempotencyError(details) : new InvalidRequestError(details);
  }
  if (statusCode === 401) return new AuthenticationError(details);
  if (statusCode === 403) return new PermissionError(details);
  return new ApiError(details);
}
