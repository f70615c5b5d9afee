/**
 * Requests the HTTP parser rejects before our handler sees them (malformed HTTP, headers over the
 * size limit, clients too slow to send a request) still get a Stripe-shaped JSON error, never Node's
 * bare default answer.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { errors } from '../errors/api-error.js';
import { rawErrorResponse } from './render.js';
import { newRequestId } from './request-id.js';

export function handleClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const apiError =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? errors.headersTooLarge()
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? errors.requestTimeout()
        : errors.malformedRequest();
  socket.end(rawErrorResponse(apiError, newRequestId()));
}

/**
 * CONNECT requests and protocol upgrades never reach the request handler (Node hands them to the
 * 'connect' and 'upgrade' events, and closes the socket unanswered when nobody listens). No such
 * thing exists here, so they get the API's own answer for an unknown route.
 */
export function handleUnsupportedRequest(req: IncomingMessage, socket: Duplex): void {
  const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
  socket.on('error', () => {});
  // Read on, discarding, so that the client's close is seen and the connection ends with it.
  socket.resume();
  socket.end(rawErrorResponse(errors.unrecognizedUrl(req.method ?? 'CONNECT', path.slice(0, 200)), newRequestId()));
}
