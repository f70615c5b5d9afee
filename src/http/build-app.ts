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
import { allowsHost, checkHost } from './stages/check-host.js';
import { execute, type WriteStores } from './stages/execute.js';
import { idempotency } from './stages/idempotency.js';
import { parseCommand } from './stages/parse-command.js';
import { type HttpLimits, readParams } from './stages/read-params.js';
import { route } from './stages/route.js';
import { DEFAULT_API_VERSION, echoStripeHeaders, stripeHeaders } from './stages/stripe-headers.js';

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
  /**
   * Emulator mode: the host names answered besides the loopback ones (stages/check-host.ts).
   * Undefined: every Host is answered (registered keys only, so there is nothing to rebind to).
   */
  readonly allowedHosts?: ReadonlySet<string>;
}

export interface App {
  handle(req: IncomingMessage, res: ServerResponse): void;
}

export const ENDPOINTS: readonly AnyEndpoint[] = [createSecret, findSecret, deleteSecret, listSecrets];

export function buildApp(deps: AppDeps): App {
  const { logger } = deps;
  const { allowedHosts } = deps;
  const stages: readonly Stage[] = [
    ...(allowedHosts ? [checkHost(allowedHosts)] : []),
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
    const headers: HeaderMap = {
      'Request-Id': requestId,
      'Stripe-Version': DEFAULT_API_VERSION,
      'Cache-Control': 'no-cache, no-store',
    };
    const record = newRequestRecord(requestId, req.method ?? 'GET');
    const context = new RequestContext(
      req,
      headers,
      record,
      queryAt === -1 ? url : url.slice(0, queryAt),
      queryAt === -1 ? '' : url.slice(queryAt + 1),
    );
    echoStripeHeaders(req, headers);
    try {
      await runStages(context);
      const { outcome } = context;
      sendJson(res, outcome.status, outcome.body, Object.assign(headers, outcome.headers));
    } catch (thrown) {
      const error = toApiError(thrown, logger, requestId);
      record.status = error.status;
      record.code = error.code;
      record.replayed = false;
      await recordRefusal(context);
      // An unread request body would be parsed as the next request on a kept-alive connection: the
      // answer goes out first, then the connection closes. Until then what arrives of the body is
      // thrown away as it comes, so a crowd of refused uploads holds no memory.
      if (!req.complete) {
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
    // The dashboard and the health checks are refused to a host the API refuses, by the API's path.
    const hostAllowed = () => !allowedHosts || allowsHost(allowedHosts, req);
    if (deps.dashboard && isDashboardPath(path) && hostAllowed()) {
      if (serveDashboardAsset(deps.dashboard, method, path, res)) return;
    }
    const work =
      method === 'GET' && HEALTH_PATHS.has(path) && hostAllowed()
        ? answerHealth(path, deps.health, res)
        : respond(req, res);
    work.catch((error: unknown) => {
      logger.error('could not answer a request', {
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
      res.destroy();
    });
  }

  return { handle };
}
