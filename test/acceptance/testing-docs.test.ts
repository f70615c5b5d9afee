/**
 * The examples of docs/testing.md, run as written: every fenced block that names a file (```ts
 * secrets.test.ts) is written into a fresh project that depends on this package (a link to the
 * built repository, as `npm install` would make it), then the vitest example runs under vitest,
 * the node:test one under `node --test`, the pytest one under Debian's python3-pytest and
 * python3-stripe, and the CI script under bash. Also, in a process of its own, that
 * `startSecretStore` touches no disk.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, ROOT, removeDir, tempDir } from '../support/server-process.js';

/** The examples can take a while on a loaded machine: each starts a toolchain of its own. */
const EXAMPLE_TIMEOUT_MS = 180_000;

interface Run {
  readonly code: number | null;
  readonly output: string;
}

/** Runs a program to its end; stdout and stderr together. */
function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  // The child is not part of this vitest run, and must not reach npm's registry for anything.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')));
  const child = spawn(command, args, {
    cwd,
    env: { ...inherited, NO_COLOR: '1', npm_config_offline: 'true', npm_config_update_notifier: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    output += d.toString();
  });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output })));
}

/** The blocks of docs/testing.md that name a file: file name -> content. */
function documentedFiles(markdown: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const match of markdown.matchAll(/^```\w+ (\S+)\n([\s\S]*?)^```$/gm)) {
    files.set(match[1] as string, match[2] as string);
  }
  return files;
}

/** A Python 3 with stripe, pytest and requests, as Debian's python3-stripe and python3-pytest give. */
function findPython(): string | undefined {
  for (const candidate of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(candidate, ['-c', 'import stripe, pytest, requests'], { stdio: 'ignore' });
      return candidate;
    } catch {}
  }
  return undefined;
}

const python = findPython();
let project: string;

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/testing/index.js'))) throw new Error('build first: npm run build');
  project = tempDir('secret-store-docs-');
  const files = documentedFiles(readFileSync(join(ROOT, 'docs/testing.md'), 'utf8'));
  expect([...files.keys()].sort()).toEqual([
    'ci.sh',
    'conftest.py',
    'fixtures.json',
    'secrets.test.mjs',
    'secrets.test.ts',
    'test_secrets.py',
  ]);
  for (const [name, content] of files) writeFileSync(join(project, name), content);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'app', private: true, type: 'module', devDependencies: { 'secret-store': '*' } }),
  );
  const modules = join(project, 'node_modules');
  mkdirSync(join(modules, '.bin'), { recursive: true });
  symlinkSync(ROOT, join(modules, 'secret-store'));
  for (const dependency of ['stripe', 'vitest'])
    symlinkSync(join(ROOT, 'node_modules', dependency), join(modules, dependency));
  // What npm links for the package's `bin` (it also makes the file executable, which tsc does not).
  const bin = join(modules, '.bin/secret-store');
  writeFileSync(bin, `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'dist/main.js')}" "$@"\n`);
  chmodSync(bin, 0o755);
});

afterAll(() => {
  if (project) removeDir(project);
});

describe('docs/testing.md, run as written', () => {
  it(
    'the vitest example passes under vitest',
    async () => {
      const result = await run(
        process.execPath,
        [join(project, 'node_modules/vitest/vitest.mjs'), 'run', 'secrets.test.ts'],
        project,
      );
      expect(result.output).toMatch(/Tests\s+3 passed \(3\)/);
      expect(result.code, result.output).toBe(0);
    },
    EXAMPLE_TIMEOUT_MS,
  );

  it(
    'the node:test example passes under node --test',
    async () => {
      const result = await run(process.execPath, ['--test', 'secrets.test.mjs'], project);
      expect(result.output).toContain('# pass 2');
      expect(result.output).toContain('# fail 0');
      expect(result.code, result.output).toBe(0);
    },
    EXAMPLE_TIMEOUT_MS,
  );

  // CI installs python3-stripe and python3-pytest (.ci/run), and there this test never skips.
  it.skipIf(!python && !process.env.CI)(
    'the pytest example passes under pytest, with stripe-python',
    async () => {
      expect(
        python,
        'python3 with stripe, pytest and requests (apt-get install python3-stripe python3-pytest)',
      ).toBeDefined();
      const result = await run(python as string, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider'], project);
      expect(result.output).toMatch(/\b3 passed\b/);
      expect(result.code, result.output).toBe(0);
    },
    EXAMPLE_TIMEOUT_MS,
  );

  it(
    'the CI script passes, and serve --memory leaves nothing on disk',
    async () => {
      const before = readdirSync(project).sort();
      const port = await freePort();
      const result = await run('bash', ['ci.sh'], project, { SECRET_STORE_PORT: String(port) });
      expect(result.code, result.output).toBe(0);
      // The script stopped its server on the way out.
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
      // The find's answer is Stripe's bytes (pretty-printed); the test tools answer compactly.
      expect(result.output).toMatch(/"payload": ?"whsec_test"/);
      expect(result.output).toMatch(/\{"now":\d+\}/);
      // sk_test_123's two fixtures (its own account's and acct_Partner1's) are back after the reset.
      expect(result.output).toContain('"fixtures_loaded":2');
      expect(readdirSync(project).sort()).toEqual(before);
    },
    EXAMPLE_TIMEOUT_MS,
  );
});

describe('startSecretStore, in a process of its own', () => {
  it(
    'touches no disk: no file opened while it runs, nothing written where it runs',
    async () => {
      const script = join(project, 'no-disk.mjs');
      writeFileSync(
        script,
        `import { readdirSync, readlinkSync } from 'node:fs';
import { startSecretStore } from 'secret-store/testing';
/** The regular files this process holds open. */
const openFiles = () =>
  readdirSync('/proc/self/fd')
    .map((fd) => { try { return readlinkSync('/proc/self/fd/' + fd); } catch { return ''; } })
    .filter((target) => target.startsWith('/') && !target.startsWith('/dev/') && !target.startsWith('/proc/'));
const before = openFiles();
const store = await startSecretStore({ fixtures: [{ name: 'f', payload: 'p', scope: { type: 'account' } }] });
const headers = { Authorization: 'Bearer sk_test_123', 'Content-Type': 'application/x-www-form-urlencoded' };
const created = await fetch(store.url + '/v1/apps/secrets', { method: 'POST', headers, body: 'name=n&payload=p&scope[type]=account' });
const during = openFiles().filter((file) => !before.includes(file));
await store.clock.advance(60);
await store.reset();
await store.close();
console.log(JSON.stringify({ status: created.status, during }));
`,
      );
      const cwd = tempDir('secret-store-no-disk-');
      try {
        const result = await run(process.execPath, [script], cwd);
        expect(result.code, result.output).toBe(0);
        expect(JSON.parse(result.output.trim().split('\n').at(-1) as string)).toEqual({ status: 200, during: [] });
        expect(readdirSync(cwd)).toEqual([]);
      } finally {
        removeDir(cwd);
      }
    },
    EXAMPLE_TIMEOUT_MS,
  );
});
