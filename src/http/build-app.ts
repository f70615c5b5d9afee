/**
 * Assembles the HTTP surface from its dependencies. It registers routes and returns a request
 * handler; it never reads the environment and never listens (see `server/start-server.ts`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditLog } from '../audit/audit-log.js';
import { ApiError, errors } from '../errors/api-error.js';
import { ACCOUNT_ID_PATTERN, type KeyAuthority, type Principal } from '../keys/api-keys.js';
import type { Logger } from '../logging/logger.js';
import type { SecretsService } from '../secrets/secrets-service.js';
import { apiKeyFromHeader } from './authenticate.js';
import { type DashboardAssets, isDashboardPath, serveDashboardAsset } from './dashboard.js';
import type { AnyEndpoint, AuditTarget, EndpointContext } from './endpoint.js';
import { createSecret } from './endpoints/create-secret.js';
import { deleteSecret } from './endpoints/delete-secret.js';
import { findSecret } from './endpoints/find-secret.js';
import { listSecrets } from './endpoints/list-secrets.js';
import {
  decodeUtf8,
  type FormLimits,
  type FormObject,
  finishForm,
  newFormObject,
  parseFormInto,
} from './form-params.js';
import { IDEMPOTENCY_KEY_MAX, type IdempotencyGuard, type Outcome } from './idempotency.js';
import type { RateLimiter } from './rate-limiter.js';
import { errorBody, errorHeaders, type HeaderMap, renderError, sendJson } from './render.js';
import { newRequestId } from './request-id.js';

/** The API version stripe-node 23.x sends by default; answered when a request names none. */
export const DEFAULT_API_VERSION = '2026-10-28.endive';
const API_VERSION_PATTERN = /^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/;
const PRINTABLE = /^[\x20-\x7e]+$/;

export type { Logger };

/** What every finished API request reports to observers (request log, metrics): ids, never values. */
export interface RequestEvent {
  readonly requestId: string;
  readonly operation: string;
  readonly method: string;
  readonly status: number;
  /** The error code, for failed requests. */
  readonly code: string | undefined;
  readonly latencyMs: number;
  readonly keyId: string | null | undefined;
  readonly livemode: boolean | undefined;
  readonly replayed: boolean;
}

export interface HealthCheck {
  /** Whether the database answers and its schema is current. */
  ready(): Promise<{ ready: boolean; detail: string }>;
}

export interface HttpLimits extends FormLimits {
  readonly maxBodyBytes: number;
}

export interface AppDeps {
  readonly secrets: SecretsService;
  readonly keys: KeyAuthority;
  readonly idempotency: IdempotencyGuard;
  readonly limits: HttpLimits;
  readonly logger: Logger;
  /** Maps infrastructure errors (a lost database) to API errors such as a 503; others are 500s. */
  readonly classifyError?: (error: unknown) => ApiError | undefined;
  /** Records mutating calls and payload reads; awaited before the response is sent. */
  readonly audit?: AuditLog;
  readonly onRequest?: (event: RequestEvent) => void;
  readonly health?: HealthCheck;
  /** Stripe-style per-account rate limits; undefined when off (the default). */
  readonly rateLimiter?: RateLimiter;
  /** The dashboard's files; undefined when the dashboard is turned off. */
  readonly dashboard?: DashboardAssets;
  readonly clock?: () => number;
}

export interface App {
  handle(req: IncomingMessage, res: ServerResponse): void;
}

export const ENDPOINTS: readonly AnyEndpoint[] = [createSecret, findSecret, deleteSecret, listSecrets];

export const DEFAULT_LIMITS: HttpLimits = { maxBodyBytes: 256 * 1024, maxParams: 256, maxDepth: 4 };

export { newRequestId };

/** Liveness and readiness, outside /v1 and without authentication (they reveal nothing). */
const HEALTH_PATHS = new Set(['/healthz', '/readyz']);

/** Anything thrown becomes an ApiError; what is not one already is logged and shown as a 500. */
export function toApiError(
  thrown: unknown,
  logger: Logger,
  requestId: string,
  classify?: (error: unknown) => ApiError | undefined,
): ApiError {
  if (thrown instanceof ApiError) return thrown;
  const classified = classify?.(thrown);
  if (classified) {
    logger.warn('request failed: storage unavailable', { request_id: requestId });
    return classified;
  }
  logger.error('request failed', {
    request_id: requestId,
    error: thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : 'non-error thrown',
  });
  return errors.internal();
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw errors.bodyTooLarge(limit);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > limit) throw errors.bodyTooLarge(limit);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, total);
}

function singleHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

const FORM_TYPE = 'application/x-www-form-urlencoded';

function checkContentType(req: IncomingMessage, bodyLength: number): void {
  const type = singleHeader(req, 'content-type');
  if (type === undefined || bodyLength === 0) return;
  const mediaType = type.split(';', 1)[0]?.trim().toLowerCase();
  if (mediaType !== FORM_TYPE) throw errors.unsupportedContentType(type.slice(0, 100));
}

/** The query's raw bytes reach us as latin1 code units; re-read them as UTF-8, strictly. */
const queryText = (rawQuery: string): string =>
  /[^\x20-\x7e]/.test(rawQuery) ? decodeUtf8(Buffer.from(rawQuery, 'latin1'), 'query string') : rawQuery;

const validIdempotencyKey = (key: string) => key.length <= IDEMPOTENCY_KEY_MAX && PRINTABLE.test(key);

/**
 * Echoes the request's Stripe-Version, Stripe-Account and Idempotency-Key on every answer, errors
 * included (the SDK copies them onto the response and the error), as long as they are well formed:
 * a malformed one is refused later, and never written back.
 */
function echoRequestHeaders(
  headers: HeaderMap,
  version: string | undefined,
  account: string | undefined,
  idempotencyKey: string | undefined,
): void {
  if (version !== undefined && API_VERSION_PATTERN.test(version)) headers['Stripe-Version'] = version;
  if (account !== undefined && ACCOUNT_ID_PATTERN.test(account)) headers['Stripe-Account'] = account;
  if (idempotencyKey && validIdempotencyKey(idempotencyKey)) headers['Idempotency-Key'] = idempotencyKey;
}

export function buildApp(deps: AppDeps): App {
  const routes = new Map<string, AnyEndpoint>(ENDPOINTS.map((e) => [`${e.method} ${e.path}`, e]));
  const { limits, logger } = deps;
  const clock = deps.clock ?? Date.now;

  function readParams(rawQuery: string, body: Buffer | undefined): FormObject {
    const state = { params: newFormObject(), count: 0 };
    parseFormInto(state, queryText(rawQuery), 'query string', limits);
    // Fact 39: POST parameters may also arrive in the query; the body wins on a clash.
    if (body && body.length > 0) parseFormInto(state, decodeUtf8(body, 'request body'), 'request body', limits);
    return finishForm(state);
  }

  /** What a request learned about itself on the way, for the audit log and observers. */
  interface RequestState {
    operation: string;
    principal?: Principal;
    owner?: EndpointContext['owner'];
    audit?: AuditTarget;
    replayed: boolean;
  }

  async function serve(
    req: IncomingMessage,
    headers: HeaderMap,
    requestId: string,
    state: RequestState,
  ): Promise<Outcome> {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    const version = singleHeader(req, 'stripe-version');
    const stripeAccount = singleHeader(req, 'stripe-account');
    const idempotencyKey = method === 'POST' ? singleHeader(req, 'idempotency-key') : undefined;
    echoRequestHeaders(headers, version, stripeAccount, idempotencyKey);

    const endpoint = routes.get(`${method} ${path}`);
    if (!endpoint) throw errors.unrecognizedUrl(method, path.slice(0, 200));
    state.operation = endpoint.operation;

    if (version !== undefined && !API_VERSION_PATTERN.test(version)) {
      throw errors.invalidApiVersion(version.slice(0, 100));
    }
    if (stripeAccount !== undefined && !ACCOUNT_ID_PATTERN.test(stripeAccount)) throw errors.invalidStripeAccount();

    const body = method === 'POST' ? await readBody(req, limits.maxBodyBytes) : undefined;
    const principal = await deps.keys.authenticate(apiKeyFromHeader(singleHeader(req, 'authorization')));
    state.principal = principal;
    const limited = deps.rateLimiter?.take(principal.platform, principal.livemode);
    if (limited) throw limited;
    if (body) checkContentType(req, body.length);
    const params = readParams(queryAt === -1 ? '' : url.slice(queryAt + 1), body);
    const command = endpoint.parse(params);

    const owner = {
      platform: principal.platform,
      account: stripeAccount ?? principal.platform,
      livemode: principal.livemode,
      boundUser: principal.user,
    };
    state.owner = owner;
    state.audit = endpoint.audited(command);
    const context: EndpointContext = { owner, principal, secrets: deps.secrets };
    const execute = async (): Promise<Outcome> => ({ status: 200, body: await endpoint.run(context, command) });

    if (idempotencyKey === undefined || idempotencyKey === '') return execute();
    if (!validIdempotencyKey(idempotencyKey)) throw errors.idempotencyKeyInvalid(IDEMPOTENCY_KEY_MAX);
    const outcome = await deps.idempotency.run(
      {
        owner: `${principal.platform}:${principal.livemode ? 'live' : 'test'}`,
        key: idempotencyKey,
        requestId,
        identity: [method, path, owner.account, params],
      },
      execute,
    );
    if (outcome.replayOf) {
      state.replayed = true;
      headers['Idempotent-Replayed'] = 'true';
      headers['Original-Request'] = outcome.replayOf;
    }
    return outcome;
  }

  /** Records the call in the audit log before the answer goes out; a failure to record is logged. */
  async function audit(state: RequestState, requestId: string, status: number, code: string | undefined) {
    const { audit: target, principal, owner } = state;
    if (!deps.audit || !target || !principal || !owner) return;
    try {
      await deps.audit.record({
        time: Math.floor(clock() / 1000),
        requestId,
        keyId: principal.keyId,
        platform: owner.platform,
        account: owner.account,
        livemode: owner.livemode,
        operation: state.operation,
        scopeType: target.scope.type,
        scopeUser: target.scope.type === 'user' ? target.scope.user : null,
        name: target.name,
        outcome: state.replayed ? 'replayed' : status < 400 ? 'ok' : (code ?? 'error'),
        status,
      });
    } catch (error) {
      logger.error('could not write the audit log', {
        request_id: requestId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  async function respond(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = newRequestId();
    const headers: HeaderMap = {
      'Request-Id': requestId,
      'Stripe-Version': DEFAULT_API_VERSION,
      'Cache-Control': 'no-cache, no-store',
    };
    const state: RequestState = { operation: 'unrecognized', replayed: false };
    let status: number;
    let code: string | undefined;
    try {
      const outcome = await serve(req, headers, requestId, state);
      status = outcome.status;
      code = outcome.code;
      await audit(state, requestId, status, code);
      sendJson(res, outcome.status, outcome.body, Object.assign(headers, outcome.headers));
    } catch (thrown) {
      const error = toApiError(thrown, logger, requestId, deps.classifyError);
      status = error.status;
      code = error.code;
      await audit(state, requestId, status, code);
      // An unread request body would be parsed as the next request on a kept-alive connection.
      if (!req.readableEnded) headers.Connection = 'close';
      renderError(res, error, headers);
    }
    deps.onRequest?.({
      requestId,
      operation: state.operation,
      method: req.method ?? 'GET',
      status,
      code,
      latencyMs: performance.now() - started,
      keyId: state.principal?.keyId,
      livemode: state.principal?.livemode,
      replayed: state.replayed,
    });
  }

  async function answerHealth(path: string, res: ServerResponse): Promise<void> {
    const headers = { 'Request-Id': newRequestId(), 'Cache-Control': 'no-cache, no-store' };
    if (path === '/healthz') return sendJson(res, 200, '{"status":"ok"}', headers);
    const check = deps.health ? await deps.health.ready() : { ready: true, detail: 'no checks' };
    sendJson(
      res,
      check.ready ? 200 : 503,
      JSON.stringify({ status: check.ready ? 'ready' : 'unavailable', detail: check.detail }),
      headers,
    );
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url?.split('?', 1)[0] ?? '/';
    const method = req.method ?? 'GET';
    if (deps.dashboard && isDashboardPath(path) && serveDashboardAsset(deps.dashboard, method, path, res)) return;
    const work = method === 'GET' && HEALTH_PATHS.has(path) ? answerHealth(path, res) : respond(req, res);
    work.catch((error: unknown) => {
      logger.error('could not answer a request', { error: error instanceof Error ? error.message : String(error) });
      res.destroy();
    });
  }

  return { handle };
}

/** For the idempotency guard: the outcome a thrown error renders to. */
export const outcomeOf =
  (logger: Logger, classify?: (error: unknown) => ApiError | undefined) =>
  (thrown: unknown): { error: ApiError; outcome: Outcome } => {
    const error = toApiError(thrown, logger, 'idempotent', classify);
    return {
      error,
      outcome: { status: error.status, code: error.code, body: errorBody(error), headers: errorHeaders(error) },
    };
  };
