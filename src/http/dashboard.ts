/**
 * Serves the dashboard's static files. The page runs no inline script or style and loads nothing
 * from outside this server, so the Content-Security-Policy can forbid all of that. It calls the API
 * with an Authorization header only (no cookies), so another site cannot make a browser act with it,
 * and the API sends no CORS headers, so another site cannot read answers either.
 */
import type { ServerResponse } from 'node:http';

export interface DashboardAsset {
  readonly type: string;
  readonly body: Buffer;
}

/** URL path -> file, loaded once at start. */
export type DashboardAssets = ReadonlyMap<string, DashboardAsset>;

export const DASHBOARD_PREFIX = '/dashboard';

export const DASHBOARD_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-cache',
};

export const isDashboardPath = (path: string): boolean =>
  path === DASHBOARD_PREFIX || path.startsWith(`${DASHBOARD_PREFIX}/`);

/** Answers a dashboard request; false when there is no such file (the caller answers 404). */
export function serveDashboardAsset(
  assets: DashboardAssets,
  method: string,
  path: string,
  res: ServerResponse,
): boolean {
  const asset = assets.get(path === DASHBOARD_PREFIX ? `${DASHBOARD_PREFIX}/` : path);
  if (!asset || (method !== 'GET' && method !== 'HEAD')) return false;
  res.writeHead(200, {
    ...DASHBOARD_SECURITY_HEADERS,
    'Content-Type': asset.type,
    'Content-Length': String(asset.body.length),
  });
  res.end(method === 'HEAD' ? undefined : asset.body);
  return true;
}
