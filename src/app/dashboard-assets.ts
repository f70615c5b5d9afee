/** Reads the dashboard's files (web/ and the compiled app and client in dist/) into memory. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DashboardAsset, DashboardAssets } from '../http/dashboard.js';

/**
 * The package's root: the nearest directory above this module that holds `web/`. This module runs
 * from src/app (in-process tests), dist/app, or the bundled dist/main.js, at different depths.
 */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'web', 'index.html')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

const PACKAGE_ROOT = packageRoot();

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

const asset = (file: string): DashboardAsset => ({
  type: TYPES[extname(file)] ?? 'application/octet-stream',
  body: readFileSync(file),
});

const scripts = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.js'));

export function loadDashboardAssets(root = PACKAGE_ROOT): DashboardAssets {
  const web = join(root, 'web');
  const dist = join(root, 'dist');
  const assets = new Map<string, DashboardAsset>([
    ['/dashboard/', asset(join(web, 'index.html'))],
    ['/dashboard/dashboard.css', asset(join(web, 'dashboard.css'))],
    ['/dashboard/favicon.svg', asset(join(web, 'favicon.svg'))],
  ]);
  for (const file of scripts(join(dist, 'dashboard')))
    assets.set(`/dashboard/app/${file}`, asset(join(dist, 'dashboard', file)));
  for (const file of scripts(join(dist, 'client')))
    assets.set(`/dashboard/client/${file}`, asset(join(dist, 'client', file)));
  return assets;
}
