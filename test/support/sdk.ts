/**
 * Helpers for the stripe-node acceptance suites (test/acceptance/sdk-*.test.ts): fresh emulator keys
 * so tests never share a namespace, an assertion for the errors stripe-node raises (class, status,
 * Stripe type, code, param, request id, and the error body against Stripe's schema).
 */
import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import { expect } from 'vitest';
import { assertMatchesSchema, type SchemaName } from './openapi.js';
import type { ServerHandle } from './server-process.js';

export const SECRET_ID = /^appsecret_[0-9A-Za-z]{30}$/;
export const REQUEST_ID = /^req_[0-9A-Za-z]+$/;

export type Secret = Stripe.Apps.Secret;

let counter = 0;

/**
 * A well-formed test key nobody else uses. The server (emulator mode on loopback) accepts any
 * unregistered sk_test_/rk_test_ key as its own platform, so each fresh key is an empty namespace.
 */
export function freshKey(label: string, kind: 'sk' | 'rk' = 'sk'): string {
  counter += 1;
  return `${kind}_test_${label}_${counter}_${randomBytes(8).toString('hex')}`;
}

export type StripeErrorClass =
  | 'StripeInvalidRequestError'
  | 'StripeAuthenticationError'
  | 'StripePermissionError'
  | 'StripeIdempotencyError'
  | 'StripeRateLimitError'
  | 'StripeAPIError';

export interface ExpectedStripeError {
  readonly type: StripeErrorClass;
  readonly statusCode: number;
  /** The `type` in the error body; invalid_request_error unless stated. */
  readonly rawType?: 'invalid_request_error' | 'idempotency_error' | 'api_error';
  /** Checked when the key is present; `code: undefined` asserts that the body has no code. */
  readonly code?: string | undefined;
  /** Checked when the key is present; `param: undefined` asserts that the body names no param. */
  readonly param?: string | undefined;
  readonly message?: string | RegExp;
}

/** The `{"error": {...}}` body the server sent, rebuilt from what stripe-node kept of it. */
export function errorBodyOf(err: Stripe.errors.StripeError): { error: Record<string, unknown> } {
  const { headers: _h, statusCode: _s, requestId: _r, ...body } = err.raw as Record<string, unknown>;
  return { error: body };
}

/**
 * Awaits a call that must fail and checks the error stripe-node raised: its class, HTTP status,
 * Stripe error type, code, param and message, a `req_` request id that matches the Request-Id
 * header, and the error body against Stripe's `error` schema. Returns the error.
 */
export async function expectStripeError(
  call: Promise<unknown>,
  expected: ExpectedStripeError,
): Promise<Stripe.errors.StripeError> {
  let caught: unknown;
  try {
    await call;
  } catch (error) {
    caught = error;
  }
  expect(caught, 'the call should have been rejected by the server').toBeInstanceOf(Stripe.errors.StripeError);
  const err = caught as Stripe.errors.StripeError;
  expect(err, `${err.type}: ${err.message}`).toBeInstanceOf(Stripe.errors[expected.type]);
  expect(err.type).toBe(expected.type);
  expect(err.statusCode).toBe(expected.statusCode);
  expect(err.rawType).toBe(expected.rawType ?? 'invalid_request_error');
  if ('code' in expected) expect(err.code).toBe(expected.code);
  if ('param' in expected) expect(err.param).toBe(expected.param);
  if (typeof expected.message === 'string') expect(err.message).toBe(expected.message);
  else if (expected.message) expect(err.message).toMatch(expected.message);
  expect(typeof err.message).toBe('string');
  expect(err.message.length).toBeGreaterThan(0);
  expect(err.requestId).toMatch(REQUEST_ID);
  expect(err.headers?.['request-id']).toBe(err.requestId);
  assertMatchesSchema('error', errorBodyOf(err));
  return err;
}

/** The schema of each endpoint's 200 answer. */
const SCHEMA_OF: Readonly<Record<string, SchemaName>> = {
  'POST /v1/apps/secrets': 'create',
  'GET /v1/apps/secrets': 'list',
  'GET /v1/apps/secrets/find': 'find',
  'POST /v1/apps/secrets/delete': 'delete',
};

/**
 * Checks every 2xx body that its clients receive (auto-pagination pages and retries included)
 * against the schema of the endpoint, through stripe-node's `response` event with
 * `emitEventBodies: true`. Mismatches are collected and reported by `verify()` (call it in
 * afterEach), so a test cannot forget to validate a response.
 */
export class ResponseAudit {
  private failures: string[] = [];
  private checked = 0;

  /** A stripe-node client for `server` whose successful responses this audit validates. */
  client(server: Pick<ServerHandle, 'stripe'>, key: string, config: Stripe.StripeConfig = {}): Stripe {
    const stripe = server.stripe(key, { ...config, emitEventBodies: true });
    stripe.on('response', (event: Stripe.ResponseEvent & { body?: unknown }) => {
      if (event.status < 200 || event.status >= 300) return;
      const endpoint = `${event.method.toUpperCase()} ${event.path.split('?', 1)[0]}`;
      const schema = SCHEMA_OF[endpoint];
      if (!schema) {
        this.failures.push(`a ${event.status} from an unexpected endpoint: ${endpoint}`);
        return;
      }
      try {
        assertMatchesSchema(schema, event.body);
        this.checked += 1;
      } catch (error) {
        this.failures.push(`${endpoint} (${event.request_id}): ${error instanceof Error ? error.message : error}`);
      }
    });
    return stripe;
  }

  /** Fails if any 2xx body since the last call did not match its schema; returns how many did. */
  verify(): number {
    const failures = this.failures;
    const checked = this.checked;
    this.failures = [];
    this.checked = 0;
    expect(failures, 'every 2xx body must match its schema').toEqual([]);
    return checked;
  }
}
