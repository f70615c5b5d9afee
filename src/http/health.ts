/**
 * Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the database answers and its
 * schema is current), without authentication: they reveal nothing. The API listener and the
 * metrics listener both answer them with this handler.
 */
import type { ServerResponse } from 'node:http';
import { type HeaderMap, sendJson } from './render.js';
import { newRequestId } from './request-id.js';

export interface HealthCheck {
  /** Whether the database answers and its schema is current. */
  ready(): Promise<{ ready: boolean; detail: string }>;
}

export const HEALTH_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz']);

export async function answerHealth(path: string, health: HealthCheck | undefined, res: ServerResponse): Promise<void> {
  const headers: HeaderMap = { 'Request-Id': newRequestId(), 'Cache-Control': 'no-cache, no-store' };
  if (path === '/healthz') return sendJson(res, 200, '{"status":"ok"}', headers);
  const check = health ? await health.ready() : { ready: true, detail: 'no checks' };
  sendJson(
    res,
    check.ready ? 200 : 503,
    JSON.stringify({ status: check.ready ? 'ready' : 'unavailable', detail: check.detail }),
    headers,
  );
}
