/** `secret-store/client`: a typed client for the Secret Store API. */
export { encodeForm } from './encode.js';
export {
  ApiError,
  AuthenticationError,
  ConnectionError,
  IdempotencyError,
  InvalidRequestError,
  PermissionError,
  RateLimitError,
  SecretStoreError,
} from './errors.js';
export { type ClientOptions, DEFAULT_BASE_URL, SecretStoreClient, SecretsResource } from './secret-store-client.js';
export type * from './types.js';
