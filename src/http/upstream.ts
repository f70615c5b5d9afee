/**
 * `--upstream URL` (README, "Testing your app"): one base URL for all of Stripe. A request this
 * server does not answer itself goes to the upstream (stripe-mock, another emulator, Stripe's test
 * mode) as it came: method, path and query (after the upstream URL's own path, if it has one),
 * headers (`Authorization`, `Stripe-Account`, `Idempotency-Key` and the rest) and body, streamed as
 * it arrives; the answer comes back the same way, status and headers included. Only what belongs to
 * one connection is not passed on (RFC 9110 section 7.6.1: `Connection`, `Keep-Alive`,
 * `Transfer-Encoding`...), and `Host` names the upstream, which virtual hosts and TLS need.
 *
 * When the upstream cannot be reached, or fails before it answers, the client gets a Stripe-shaped
 * 502 `api_error` naming the upstream.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { type ApiError, errors } from '../errors/api-error.js';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** How long connecting to the upstream may take before the request fails with a 502. */
const CONNECT_TIMEOUT_MS = 10_000;

/** `rawHeaders` without the connection's own headers (and those its `Connection` header names). */
function endToEnd(rawHeaders: readonly string[], extraDropped: ReadonlySet<string> = new Set()): string[] {
  const named = new Set<string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() !== 'connection') continue;
    for (const token of (rawHeaders[i + 1] as string).split(',')) named.add(token.trim().toLowerCase());
  }
  const kept: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    if (HOP_BY_HOP.has(name) || named.has(name) || extraDropped.has(name)) continue;
    kept.push(rawHeaders[i] as string, rawHeaders[i + 1] as string);
  }
  return kept;
}

const DROPPED_FROM_REQUESTS: ReadonlySet<string> = new Set(['host']);

export class Upstream {
  private readonly target: URL;
  private readonly basePath: string;
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;
  /** The upstream as errors name it. */
  readonly shown: string;

  constructor(url: string) {
    this.target = new URL(url);
    this.basePath = this.target.pathname.replace(/\/+$/, '');
    const https = this.target.protocol === 'https:';
    // Connections are kept and reused, as a client of the upstream would: a test suite makes many calls.
    this.agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.send = https ? httpsRequest : httpRequest;
    this.shown = `${this.target.origin}${this.basePath}`;
  }

  /**
   * Forwards `req` and streams the answer into `res`. `fail` answers for the upstream when it could
   * not be reached or failed before answering; `done` hears the status once the answer is sent (or
   * the exchange was cut short).
   */
  forward(
    req: IncomingMessage,
    res: ServerResponse,
    fail: (error: ApiError) => void,
    done: (status: number) => void,
  ): void {
    const { target } = this;
    const headers = endToEnd(req.rawHeaders, DROPPED_FROM_REQUESTS);
    headers.push('Host', target.host);
    const outgoing = this.send({
      protocol: target.protocol,
      hostname: target.hostname.replace(/^\[|\]$/g, ''),
      port: target.port,
      method: req.method,
      path: this.basePath + (req.url ?? '/'),
      headers,
      agent: this.agent,
      timeout: CONNECT_TIMEOUT_MS,
    });
    let answered = false;
    outgoing.on('socket', (socket) => {
      // The timeout guards the connection only: once connected, the upstream takes as long as it takes.
      if (socket.connecting) socket.once('connect', () => outgoing.setTimeout(0));
      else outgoing.setTimeout(0);
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no connection within ${CONNECT_TIMEOUT_MS} ms`)));
    outgoing.on('response', (incoming) => {
      answered = true;
      res.writeHead(incoming.statusCode ?? 502, incoming.statusMessage, endToEnd(incoming.rawHeaders));
      incoming.pipe(res);
      incoming.on('error', () => res.destroy());
      res.on('close', () => {
        if (!incoming.complete) incoming.destroy();
        done(incoming.statusCode ?? 502);
      });
    });
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (answered) {
        // Cut short after the answer began: the client sees its connection end, as it would have.
        res.destroy();
        return;
      }
      if (!res.destroyed) fail(errors.upstreamUnreachable(this.shown, error.code ?? error.message));
      done(502);
    });
    // The client went away before the answer: the upstream need not go on.
    res.on('close', () => {
      if (!answered) outgoing.destroy();
    });
    req.pipe(outgoing);
  }

  close(): void {
    this.agent.destroy();
  }
}
