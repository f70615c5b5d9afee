/**
 * Assembles the HTTP surface from its dependencies and returns a request handler; it never reads
 * the environment and never listens (see app/compose.ts and server/). An API request goes through
 * the stages below, in this order, each in its own module under `stages/`: any stage may throw to
 * answer with an error, and only the renderer writes the answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AuditLog, auditEntryOf } from '../audit/audit-log.js';
import type { KeyAuthority } from '../keys/api-keys.js';
import type { Logger } from '../logging/logger.js';
import { newRequestRecord, type RequestRecord } from '../logging/request-record.js';
import type { SecretsService } from '../secrets/secrets-service.js';
import type { UnitOfWork } from '../store/unit-of-work.js';
import { DEFAULT_API_VERSION } from './api-version.js';
import { type DashboardAssets, isDashboardPath, serveDashboardAsset } from './dashboard.js';
import type { AnyEndpoint } from './endpoint.js';
import { createSecret } from './endpoints/create-secret.js';
import { deleteSecret } from './endpoints/delete-secret.js';
import { findSecret } from './endpoints/find-secret.js';
import { listSecrets } from './endpoints/list-secrets.js';
import { toApiError } from './error-translation.js';
import { answerHealth, HEALTH_PATHS, type HealthCheck } from './health.js';
import type { IdempotencyGuard } from './idempotency-guard.js';
import type { RateLimiter } from './rate-limiter.js';
import { type HeaderMap, renderError, sendJson } from './render.js';
import { RequestContext, type Stage } from './request-context.js';
import { newRequestId } from './request-id.js';
import { authenticate } from './stages/authenticate.js';
import { authorize } from './stages/authorize.js';
import { execute, type WriteStores } from './stages/execute.js';
import { idempotency } from './stages/idempotency.js';
import { parseCommand } from './stages/parse-command.js';
import { type HttpLimits, readParams } from './stages/read-params.js';
import { route } from './stages/route.js';
import { echoStripeHeaders, readStripeHeaders, stripeHeaders } from './stages/stripe-headers.js';

export interface AppDeps {
  readonly secrets: SecretsService;
  readonly keys: KeyAuthority;
  readonly unitOfWork: UnitOfWork<WriteStores>;
  readonly guard: IdempotencyGuard;
  /** Records payload reads and refused requests; writes record theirs in their unit of work. */
  readonly audit: AuditLog;
  readonly limits: HttpLimits;
  readonly logger: Logger;
  /** Milliseconds since the epoch. */
  readonly clock: () => number;
  /** Told of every finished API request (request log, metrics). */
  readonly onRequest?: (record: RequestRecord) => void;
  readonly health?: HealthCheck;
  /** Stripe-style per-account rate limits; undefined when off (the default). */
  readonly rateLimiter?: RateLimiter;
  /** The dashboard's files; undefined when the dashboard is turned off. */
  readonly dashboard?: DashboardAssets;
}

export interface App {
  handle(req: IncomingMessage, res: ServerResponse): void;
}

export const ENDPOINTS: readonly AnyEndpoint[] = [createSecret, findSecret, deleteSecret, listSecrets];

/** Whether the request announced a body (Content-Length above 0, or chunks) not read to its end. */
function bodyLeftUnread(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  const announced = req.headers['transfer-encoding'] !== undefined || (length !== undefined && Number(length) !== 0);
  return announced && !req.readableEnded;
}

export function buildApp(deps: AppDeps): App {
  const { logger } = deps;
  const stages: readonly Stage[] = [
    route(ENDPOINTS),
    stripeHeaders,
    authenticate(deps.keys, deps.rateLimiter),
    readParams(deps.limits),
    parseCommand,
    authorize,
    idempotency,
    execute(deps),
  ];

  async function runStages(context: RequestContext): Promise<void> {
    for (const stage of stages) {
      const pending = stage(context);
      if (pending) await pending;
    }
  }

  /**
   * A refused audited request (403, a reused idempotency key, a failed unit of work) is recorded
   * too, on a best-effort basis: it changed nothing and revealed nothing.
   */
  async function recordRefusal(context: RequestContext): Promise<void> {
    if (context.audited || context.record.target === undefined || !context.isAudited) return;
    try {
      await deps.audit.record(auditEntryOf(context.record, Math.floor(deps.clock() / 1000)));
    } catch (error) {
      logger.error('could not write the audit log', {
        request_id: context.record.requestId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  async function respond(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newRequestId();
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const method = req.method ?? 'GET';
    const headers: HeaderMap = {
      'Request-Id': requestId,
      'Stripe-Version': DEFAULT_API_VERSION,
      'Cache-Control': 'no-cache, no-store',
    };
    // Stripe answers every POST with the request that produced the answer: this one, unless it is
    // a replay (README, "Idempotency").
    if (method === 'POST') headers['Original-Request'] = requestId;
    const record = newRequestRecord(requestId, method);
    const stripe = readStripeHeaders(req, deps.clock());
    const context = new RequestContext(
      req,
      stripe,
      headers,
      record,
      queryAt === -1 ? url : url.slice(0, queryAt),
      queryAt === -1 ? '' : url.slice(queryAt + 1),
    );
    echoStripeHeaders(stripe, headers);
    try {
      await runStages(context);
      const { outcome } = context;
      sendJson(res, outcome.status, outcome.body, Object.assign(headers, outcome.headers));
    } catch (thrown) {
      const error = toApiError(thrown, logger, requestId);
      record.status = error.status;
      record.code = error.reason;
      record.replayed = false;
      await recordRefusal(context);
      // A body left unread would keep arriving after the answer: the answer goes out first, then
      // the connection closes, and what arrives meanwhile is thrown away as it comes, so a crowd
      // of refused uploads holds no memory. Without a body (most GETs) the connection stays open.
      if (bodyLeftUnread(req)) {
        headers.Connection = 'close';
        req.resume();
      }
      renderError(res, error, headers);
    }
    deps.onRequest?.(record);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url?.split('?', 1)[0] ?? '/';
    const method = req.method ?? 'GET';
    if (deps.dashboard && isDashboardPath(path) && serveDashboardAsset(deps.dashboard, method, path, res)) return;
    const work = method === 'GET' && HEALTH_PATHS.has(path) ? answerHealth(path, deps.health, res) : respond(req, res);
    work.catch((error: unknown) => {
      logger.error('could not answer a request', {
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
      res.destroy();
    });
  }

  return { handle };
}
