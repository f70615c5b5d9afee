/** The only code that writes response bodies, and so the only one that writes error bodies. */
import type { ServerResponse } from 'node:http';
import type { ApiError } from '../errors/api-error.js';
import { stripeJson } from './stripe-json.js';

export type HeaderMap = Record<string, string>;

/**
 * Sends `body` with `headers`, which it completes and takes over: callers pass the response's own
 * map, not one they keep using (copying it for every response cost a promoted object each time; see
 * scopeValues in store/sql-secret-store.ts).
 */
export function sendJson(res: ServerResponse, status: number, body: string, headers: HeaderMap): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  headers['Content-Type'] = 'application/json';
  headers['Content-Length'] = String(Buffer.byteLength(body));
  res.writeHead(status, headers);
  res.end(body);
}

/** Where Stripe documents a code: every error with a code has one, and no other error has one. */
export const docUrlFor = (code: string): string => `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}`;

/**
 * `{"error": {...}}` with Stripe's keys in Stripe's order, which is alphabetical (the raw body in
 * stripe/stripe-cli#585: code, doc_url, message, param, type); `code` and `doc_url` only where
 * Stripe sends a code, `param` only where a parameter is at fault. JSON.stringify leaves out the
 * fields that are undefined.
 */
export function errorBody(error: ApiError): string {
  return stripeJson({
    error: {
      code: error.code,
      doc_url: error.code === undefined ? undefined : docUrlFor(error.code),
      message: error.message,
      param: error.param,
      type: error.type,
    },
  });
}

export function errorHeaders(error: ApiError): HeaderMap {
  return { 'Stripe-Should-Retry': String(error.shouldRetry) };
}

/** An error as an answer to save and replay (idempotency) like any other. */
export const errorOutcome = (error: ApiError) => ({
  status: error.status,
  reason: error.reason,
  body: errorBody(error),
  headers: errorHeaders(error),
});

/**
 * A whole HTTP/1.1 response with an error body, for sockets the HTTP parser gave up on (malformed
 * requests, oversized headers, timeouts), where no response object exists. Closes the connection.
 */
export function rawErrorResponse(error: ApiError, requestId: string): string {
  const body = errorBody(error);
  const reason =
    { 400: 'Bad Request', 404: 'Not Found', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }[
      error.status
    ] ?? 'Error';
  return [
    `HTTP/1.1 ${error.status} ${reason}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    `Request-Id: ${requestId}`,
    `Stripe-Should-Retry: ${error.shouldRetry}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

export function renderError(res: ServerResponse, error: ApiError, headers: HeaderMap): void {
  sendJson(res, error.status, errorBody(error), Object.assign(headers, errorHeaders(error)));
}
