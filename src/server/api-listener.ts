/** The HTTP server the API (and the dashboard) is answered on. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ServerConfig } from '../config/server-config.js';
import { handleClientError, handleUnsupportedRequest } from '../http/client-errors.js';

export function createApiServer(
  config: Pick<ServerConfig, 'maxHeaderBytes' | 'requestTimeoutMs' | 'headersTimeoutMs' | 'keepAliveTimeoutMs'>,
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Server {
  // Slow clients must not hold the server: a request must arrive whole within requestTimeoutMs and
  // its headers within headersTimeoutMs (checked every second), idle connections close after
  // keepAliveTimeoutMs, and headers are capped at maxHeaderBytes.
  const server = createServer(
    {
      connectionsCheckingInterval: 1000,
      maxHeaderSize: config.maxHeaderBytes,
      requestTimeout: config.requestTimeoutMs,
    },
    handle,
  );
  // A client may shut down its sending side once its request is out (raw sockets, `nc`, some
  // proxies). Node's default then ends the connection at once and the answer to a request still
  // waiting for the database is lost, although the write went through; with half-open connections
  // allowed, the answer is sent and the connection closed after it.
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  server.headersTimeout = Math.min(config.headersTimeoutMs, config.requestTimeoutMs);
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  server.on('clientError', handleClientError);
  server.on('connect', handleUnsupportedRequest);
  server.on('upgrade', handleUnsupportedRequest);
  return server;
}
