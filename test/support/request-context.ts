/**
 * A request as the stages see it, for unit tests of the request path: a real IncomingMessage with
 * the given method, target, headers and body, in a RequestContext built as build-app.ts builds it.
 */
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { ENDPOINTS } from '../../src/http/build-app.js';
import { RequestContext, type Stage } from '../../src/http/request-context.js';
import { authenticate } from '../../src/http/stages/authenticate.js';
import { authorize } from '../../src/http/stages/authorize.js';
import { idempotency } from '../../src/http/stages/idempotency.js';
import { parseCommand } from '../../src/http/stages/parse-command.js';
import { DEFAULT_LIMITS, readParams } from '../../src/http/stages/read-params.js';
import { route } from '../../src/http/stages/route.js';
import { readStripeHeaders, stripeHeaders } from '../../src/http/stages/stripe-headers.js';
import type { KeyAuthority } from '../../src/keys/api-keys.js';
import { newRequestRecord } from '../../src/logging/request-record.js';

export interface RequestInit {
  readonly headers?: Record<string, string>;
  /** The server's time when the request arrives (API versions are dated); now by default. */
  readonly nowMs?: number;
  /** The body, in the chunks it arrives in. */
  readonly body?: string | readonly Buffer[];
}

let requests = 0;

export function requestContext(method: string, target: string, init: RequestInit = {}): RequestContext {
  const req = new IncomingMessage(new Socket());
  req.method = method;
  req.url = target;
  for (const [name, value] of Object.entries(init.headers ?? {})) req.headers[name.toLowerCase()] = value;
  const chunks = typeof init.body === 'string' ? [Buffer.from(init.body)] : (init.body ?? []);
  for (const chunk of chunks) req.push(chunk);
  req.push(null);
  const queryAt = target.indexOf('?');
  return new RequestContext(
    req,
    readStripeHeaders(req, init.nowMs ?? Date.now()),
    {},
    newRequestRecord(`req_test${++requests}`, method),
    queryAt === -1 ? target : target.slice(0, queryAt),
    queryAt === -1 ? '' : target.slice(queryAt + 1),
  );
}

/** Runs `stages` in order on `context`, as the request path does. */
export async function runStages(context: RequestContext, stages: readonly Stage[]): Promise<RequestContext> {
  for (const stage of stages) await stage(context);
  return context;
}

/** The request path's stages before execute, in build-app.ts's order, with no rate limit. */
export const stagesBeforeExecute = (keys: KeyAuthority): Stage[] => [
  route(ENDPOINTS),
  stripeHeaders,
  authenticate(keys, undefined),
  readParams(DEFAULT_LIMITS),
  parseCommand,
  authorize,
  idempotency,
];
