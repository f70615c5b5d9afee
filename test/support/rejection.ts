/** For unit tests: the ApiError a call rejects with. */
import { expect } from 'vitest';
import { ApiError } from '../../src/errors/api-error.js';

/**
 * The ApiError `pending` rejects with (or `pending()` throws or rejects with); fails the test when
 * it succeeds or fails with anything else.
 */
export async function apiErrorOf(pending: Promise<unknown> | (() => unknown)): Promise<ApiError> {
  const error = await Promise.resolve()
    .then(() => (typeof pending === 'function' ? pending() : pending))
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}
