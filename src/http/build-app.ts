/**
 * Assembles the HTTP surface from its dependencies and returns a request handler; it never reads
 * the environment and never listens (see app/compose.ts and server/). An API request goes through
 * the stages below, in this order, each in its own module under `stages/`: any stage may throw to
 * answer with an error, and only the renderer writes the answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AuditLog, auditEntryOf } from '../audit/audit-log.js';
import type { ApiError } from '../errors/api-error.js';
import type { KeyAuthority } from '../keys/api-keys.js';
import type { Logger } from '../logging/logger.js';
import { newRequestRecord, type RequestRecord } from '../logging/request-record.js';
import type { OwnedClock } from '../secrets/platform-clocks.js';
import type { SecretsService } from '../secrets/secrets-service.js';
import { StoreUnavailableError } from '../store/store-errors.js';
import type { UnitOfWork } from '../store/unit-of-work.js';
import { DEFAULT_API_VERSION } from './api-version.js';
import { type DashboardAssets, isDashboardPath, serveDashboardAsset } from './dashboard.js';
import type { AnyEndpoint } from './endpoint.js';
import { advanceTestClock } from './endpoints/advance-test-clock.js';
import { createSecret } from './endpoints/create-secret.js';
import { deleteSecret } from './endpoints/delete-secret.js';
import { findSecret } from './endpoints/find-secret.js';
import { listSecrets } from './endpoints/list-secrets.js';
import { readTestClock } from './endpoints/read-test-clock.js';
import { resetTestData } from './endpoints/reset-test-data.js';
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
import { echoStripeHeaders, readStripeHeaders, stripeHeaders } from './stages/stripe-headers.js';
import { routeTestTool, runTestTool } from './stages/test-tool.js';
import { type AnyTestToolEndpoint, TEST_TOOLS_PREFIX, type TestTools } from './test-tool-endpoint.js';
import type { Upstream } from './upstream.js';

export interface AppDeps {
  readonly secrets: SecretsService;
  readonly keys: KeyAuthority;
  readonly unitOfWork: UnitOfWork<WriteStores>;
  readonly guard: IdempotencyGuard;
  /** Records payload reads and refused requests; writes record theirs in their unit of work. */
  readonly audit: AuditLog;
  readonly limits: HttpLimits;
  readonly logger: Logger;
  /** Milliseconds since the epoch, as each owner sees them (see secrets/platform-clocks.ts). */
  readonly clock: OwnedClock;
  /** Told of every finished API request (request log, metrics). */
  readonly onRequest?: (record: RequestRecord) => void;
  readonly health?: HealthCheck;
  /** Stripe-style per-account rate limits; undefined when off (the default). */
  readonly rateLimiter?: RateLimiter;
  /** The dashboard's files; undefined when the dashboard is turned off. */
  readonly dashboard?: DashboardAssets;
  /** The test tools under /_secret_store/; given in emulator mode only (404 otherwise). */
  readonly testTools?: TestTools;
  /** Where requests for anything but the server's own paths go (`--upstream`); none by default. */
  readonly upstream?: Upstream;
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

export const TEST_TOOL_ENDPOINTS: readonly AnyTestToolEndpoint[] = [readTestClock, advanceTestClock, resetTestData];

const SECRETS_PATH = '/v1/apps/secrets';

/** Whether the server answers `path` itself; with an upstream, it forwards every other path. */
function isOwnPath(path: string, dashboard: boolean): boolean {
  return (
    path === SECRETS_PATH ||
    path.startsWith(`${SECRETS_PATH}/`) ||
    path.startsWith(TEST_TOOLS_PREFIX) ||
    HEALTH_PATHS.has(path) ||
    (dashboard && isDashboardPath(path))
  );
}

/** Whether the request announced a body (Content-Length above 0, or chunks) not read to its end. */
function bodyLeftUnread(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  const announced = req.headers['transfer-encoding'] !== undefined || (length !== undefined && Number(length) !== 0);
  return announced && !req.readableEnded;
}

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
  const testToolStages: readonly Stage[] | undefined = deps.testTools && [
    ...(allowedHosts ? [checkHost(allowedHosts)] : []),
    routeTestTool(TEST_TOOL_ENDPOINTS),
    stripeHeaders,
    authenticate(deps.keys, deps.rateLimiter),
    readParams(deps.limits),
    runTestTool(deps.testTools),
  ];

  async function runStages(context: RequestContext): Promise<void> {
    const path = testToolStages && context.path.startsWith(TEST_TOOLS_PREFIX) ? testToolStages : stages;
    for (const stage of path) {
      const pending = stage(context);
      if (pending) await pending;
    }
  }

  /**
   * A refused audited request (403, a reused idempotency key, a failed unit of work) is recorded
   * too, on a best-effort basis: it changed nothing and revealed nothing. When it was refused
   * because the database could not serve it, the answer does not wait for the row: that wait would
   * be on the same database, and a request's wait on it is bounded (README, "PostgreSQL and several
   * instances").
   */
  async function recordRefusal(context: RequestContext, thrown: unknown): Promise<void> {
    if (context.audited || context.record.target === undefined || !context.isAudited) return;
    const { platform, livemode } = context.record;
    const owner = platform === undefined ? undefined : { platform, livemode: livemode ?? false };
    const recorded = deps.audit
      .record(auditEntryOf(context.record, Math.floor(deps.clock(owner) / 1000)))
      .catch((error: unknown) => {
        logger.error('could not write the audit log', {
          request_id: context.record.requestId,
          error: error instanceof Error ? error.message : String(error),
        });
      });
    if (!(thrown instanceof StoreUnavailableError)) await recorded;
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
      await recordRefusal(context, thrown);
      refuse(req, res, error, headers);
    }
    deps.onRequest?.(record);
  }

  /** Answers with `error`, whatever is left of the request's body unread. */
  function refuse(req: IncomingMessage, res: ServerResponse, error: ApiError, headers: HeaderMap): void {
    // An unread request body would be parsed as the next request on a kept-alive connection: the
    // answer goes out first, then the connection closes. Until then what arrives of the body is
    // thrown away as it comes, so a crowd of refused uploads holds no memory. Without a body (most
    // GETs) the connection stays open.
    if (bodyLeftUnread(req)) {
      headers.Connection = 'close';
      req.resume();
    }
    renderError(res, error, headers);
  }

  function forward(upstream: Upstream, req: IncomingMessage, res: ServerResponse): void {
    const record = newRequestRecord(newRequestId(), req.method ?? 'GET');
    record.operation = 'upstream.forward';
    upstream.forward(
      req,
      res,
      (error) => {
        record.code = error.reason;
        refuse(req, res, error, { 'Request-Id': record.requestId, 'Cache-Control': 'no-cache, no-store' });
      },
      (status) => {
        record.status = status;
        deps.onRequest?.(record);
      },
    );
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url?.split('?', 1)[0] ?? '/';
    const method = req.method ?? 'GET';
    // A Host that emulator mode refuses gets its 403 from the API's path (stages/check-host.ts),
    // whatever it asked for: the dashboard, a health check, a test tool or the upstream.
    const refused = allowedHosts !== undefined && !allowsHost(allowedHosts, req);
    if (!refused && deps.upstream && !isOwnPath(path, deps.dashboard !== undefined)) {
      forward(deps.upstream, req, res);
      return;
    }
    if (!refused && deps.dashboard && isDashboardPath(path) && serveDashboardAsset(deps.dashboard, method, path, res)) {
      return;
    }
    const work =
      !refused && method === 'GET' && HEALTH_PATHS.has(path) ? answerHealth(path, deps.health, res) : respond(req, res);
    work.catch((error: unknown) => {
      logger.error('could not answer a request', {
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
      res.destroy();
    });
  }

  return { handle };
}
