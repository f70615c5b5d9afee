/**
 * Assertions for raw HTTP answers of the API: every answer is JSON with a `Request-Id`, never a 5xx,
 * and an error is a Stripe-shaped `{"error": {...}}` body with the expected type, code and param and
 * no stack trace.
 */
import { expect } from 'vitest';
import { assertMatchesSchema, type SchemaName } from './openapi.js';
import { type RawReply, sendRaw } from './raw-http.js';
import { type RawResponse, raw, type ServerHandle } from './server-process.js';

export const REQUEST_ID = /^req_[0-9A-Za-z]+$/;

/** Text that only a leaked stack trace or source location would put into a body. */
const STACK_TRACE = /\bat [\w.<>$]+ \(|\bat (?:file|node):|node:internal|:\d+:\d+\)?|\.[cm]?[jt]s:\d+|\bdist\/|\bsrc\//;

/** What every answer of the API has, success or error. */
export function expectApiAnswer(res: RawResponse): void {
  expect(res.status, res.text).toBeLessThan(500);
  expect(res.headers.get('content-type')).toMatch(/^application\/json\b/);
  expect(res.headers.get('request-id')).toMatch(REQUEST_ID);
  expect(res.json, `not JSON: ${res.text}`).toBeDefined();
}

/** A raw request whose answer must be a well-formed API answer (JSON, Request-Id, no 5xx). */
export async function call(
  server: Pick<ServerHandle, 'url'>,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string | Uint8Array } = {},
): Promise<RawResponse> {
  const res = await raw(server, method, path, init);
  expectApiAnswer(res);
  return res;
}

/** A successful answer in Stripe's bytes, optionally checked against one of Stripe's schemas. */
export function expectOk<T = Record<string, unknown>>(res: RawResponse, schema?: SchemaName): T {
  expect(res.status, res.text).toBe(200);
  expectStripeBytes(res);
  if (schema) assertMatchesSchema(schema, res.json);
  return res.json as T;
}

export interface ExpectedError {
  readonly status: number;
  readonly type?: 'api_error' | 'idempotency_error' | 'invalid_request_error';
  /** Stripe's code; `undefined` asserts that the body has none (nor a doc_url), as Stripe sends. */
  readonly code: string | undefined;
  /** The param the error names; `undefined` asserts the body has no `param`. */
  readonly param?: string;
  /** The expected `Stripe-Should-Retry` header; false unless stated. */
  readonly shouldRetry?: boolean;
}

export interface ErrorBody {
  readonly type: string;
  readonly code?: string;
  readonly message: string;
  readonly param?: string;
  readonly doc_url?: string;
}

/** Stripe's bytes: two-space indent and a final newline (stripe/stripe-mock#312, a real 404). */
export function expectStripeBytes(res: RawResponse): void {
  expect(res.text).toBe(`${JSON.stringify(res.json, null, 2)}\n`);
}

/**
 * Asserts a Stripe error answer and returns its `error` object: Stripe's bytes, its keys in
 * Stripe's (alphabetical) order (stripe/stripe-cli#585), and a doc_url exactly when there is a code.
 */
export function expectApiError(res: RawResponse, expected: ExpectedError): ErrorBody {
  expectApiAnswer(res);
  expect(res.status, res.text).toBe(expected.status);
  assertMatchesSchema('error', res.json);
  expectStripeBytes(res);
  const error = (res.json as { error: ErrorBody }).error;
  expect(Object.keys(error)).toEqual(Object.keys(error).sort());
  expect(error.type).toBe(expected.type ?? 'invalid_request_error');
  expect(error.code).toBe(expected.code);
  expect(error.doc_url).toBe(
    expected.code === undefined ? undefined : `https://stripe.com/docs/error-codes/${expected.code.replace(/_/g, '-')}`,
  );
  expect(error.param).toBe(expected.param);
  expect(typeof error.message).toBe('string');
  expect(res.text).not.toMatch(STACK_TRACE);
  expect(res.headers.get('stripe-should-retry')).toBe(String(expected.shouldRetry ?? false));
  return error;
}

/** A reply read off a raw socket (see raw-http.ts), in the shape of a fetch answer. */
export function fromRawReply(reply: RawReply): RawResponse {
  let json: unknown;
  try {
    json = JSON.parse(reply.body);
  } catch {
    json = undefined;
  }
  return { status: reply.status, headers: new Headers(reply.headers), text: reply.body, json };
}

/** Sends raw request bytes (built with `rawRequest`) and reads the answer until the server closes. */
export const exchangeRaw = (port: number, request: Buffer, timeoutMs = 10_000): Promise<RawResponse> =>
  sendRaw(port, request, timeoutMs).then(fromRawReply);

/** What stripe-node raises for a name that has no live secret in the scope. */
export const noSuchSecret = (name: string) =>
  ({
    type: 'StripeInvalidRequestError',
    statusCode: 404,
    code: 'resource_missing',
    param: 'name',
    message: `No such secret: '${name}'`,
  }) as const;
