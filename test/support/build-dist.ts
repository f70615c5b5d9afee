/**
 * vitest's global setup: builds dist/ when it is older than the sources, so that `npx vitest run`
 * works on a fresh clone and after any edit. The spawned suites run `dist/main.js` (the server and
 * the CLI as users run them) and the client's type test compiles against dist/'s declarations;
 * everything else runs the sources in-process. A build stamp records when dist/ was last built.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');
const STAMP = join(ROOT, 'dist/.build-stamp');
const INPUTS = ['src', 'scripts', 'tsconfig.json', 'tsconfig.build.json', 'package.json'];

function newestChange(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs; // a deleted or renamed file changes its directory
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestChange(join(path, entry)));
  return newest;
}

function builtAt(): number {
  try {
    return statSync(STAMP).mtimeMs;
  } catch {
    return 0;
  }
}

export function setup(): void {
  const changed = Math.max(...INPUTS.map((input) => newestChange(join(ROOT, input))));
  if (changed < builtAt()) return;
  process.stdout.write('building dist/ (older than src/)\n');
  const started = new Date();
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  for (const project of ['tsconfig.build.json', 'src/dashboard/tsconfig.json']) {
    execFileSync(process.execPath, [tsc, '-p', join(ROOT, project)], { cwd: ROOT, stdio: 'inherit' });
  }
  execFileSync(process.execPath, [join(ROOT, 'scripts/bundle-cli.mjs')], { cwd: ROOT, stdio: 'inherit' });
  // Stamped with the time the build started: a source saved during the build makes it stale again.
  writeFileSync(STAMP, '');
  utimesSync(STAMP, started, started);
}
