/**
 * The one place where what was thrown becomes an API error: errors of the catalogue pass as they
 * are, the store's "cannot serve now" errors (a lost database, a full disk) become a retryable 503,
 * and anything else is a bug: logged with its stack and the request's id, answered as a 500.
 */
import { ApiError, errors } from '../errors/api-error.js';
import type { Logger } from '../logging/logger.js';
import { StoreUnavailableError } from '../store/store-errors.js';

export function toApiError(thrown: unknown, logger: Logger, requestId: string): ApiError {
  if (thrown instanceof ApiError) return thrown;
  if (thrown instanceof StoreUnavailableError) {
    logger.warn('request failed: storage unavailable', { request_id: requestId, error: thrown.message });
    return errors.storageUnavailable();
  }
  logger.error('request failed', {
    request_id: requestId,
    error: thrown instanceof Error ? (thrown.stack ?? `${thrown.name}: ${thrown.message}`) : 'non-error thrown',
  });
  return errors.internal();
}
