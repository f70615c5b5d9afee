/**
 * Starts the real server (`node dist/main.js serve`, built by `npm test`) as a child process on a
 * free port with its own data directory, and runs the CLI the way users do.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Stripe from 'stripe';
import { afterAll, beforeAll } from 'vitest';
import { createSchema, type TestSchema, testEngine } from './postgres.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/main.js');

export function tempDir(prefix = 'secret-store-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolvePort(port));
    });
  });
}

export interface ServerHandle {
  readonly port: number;
  readonly url: string;
  readonly dataDir: string;
  /** The PostgreSQL URL the server uses, when it runs on PostgreSQL. */
  readonly databaseUrl: string | undefined;
  readonly process: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** An official stripe-node client pointed at this server. */
  stripe(key?: string, config?: Stripe.StripeConfig): Stripe;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Resolves with the exit code once the process has exited by itself. */
  exited(): Promise<number | null>;
}

export interface StartOptions {
  readonly dataDir?: string;
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Defaults to the engine of the vitest project (SQLite, or PostgreSQL in a fresh schema). */
  readonly engine?: 'sqlite' | 'postgres';
  /** A PostgreSQL URL to share between servers (several instances on one database). */
  readonly databaseUrl?: string;
}

export async function startServer(options: StartOptions = {}): Promise<ServerHandle> {
  const dataDir = options.dataDir ?? tempDir();
  const port = await freePort();
  let schema: TestSchema | undefined;
  let databaseUrl = options.databaseUrl;
  if (!databaseUrl && (options.engine ?? testEngine()) === 'postgres') {
    schema = await createSchema('srv');
    databaseUrl = schema.url;
  }
  const child = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--port',
      String(port),
      '--data-dir',
      dataDir,
      ...(databaseUrl ? ['--database-url', databaseUrl] : []),
      ...(options.args ?? []),
    ],
    { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  await new Promise<void>((res, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 15_000);
    const check = () => {
      if (output.includes('listening on')) {
        clearTimeout(timer);
        res();
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output}`));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    port,
    url,
    dataDir,
    databaseUrl,
    process: child,
    output: () => output,
    stripe: (key = 'sk_test_123', config = {}) =>
      new Stripe(key, { host: '127.0.0.1', port, protocol: 'http', ...config }),
    exited: () => exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const code = await exited;
      await schema?.drop();
      schema = undefined;
      return code;
    },
  };
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node dist/main.js ...args`, as `npx secret-store ...args` does, optionally feeding stdin. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<CliResult> {
  return runCommand(process.execPath, [CLI, ...args], { env, input });
}

export interface CommandOptions {
  /** Added to the process's environment. */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly input?: string;
  /** Run as this user and group (the suite runs as root on CI). */
  readonly uid?: number;
  readonly gid?: number;
}

/** Runs a program to its end and answers its exit code and what it wrote. */
export async function runCommand(
  command: string,
  args: readonly string[],
  options: CommandOptions = {},
): Promise<CliResult> {
  const { env, input, ...spawnOptions } = options;
  const child = spawn(command, args, { ...spawnOptions, env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdin.end(input ?? '');
  const code = await new Promise<number>((resolve) => child.once('close', (c) => resolve(c ?? 1)));
  return { code, stdout, stderr };
}

/**
 * Temporary directories for a test file, removed after it: call at the top of the file, then
 * `newDir()` wherever a test needs one.
 */
export function useTempDirs(): () => string {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) removeDir(dir);
  });
  return () => {
    const dir = tempDir();
    dirs.push(dir);
    return dir;
  };
}

/** The CLI flags that point a command at a server's database (its data dir, or its PostgreSQL). */
export const storeArgs = (target: string | Pick<ServerHandle, 'dataDir' | 'databaseUrl'>): string[] =>
  typeof target === 'string'
    ? ['--data-dir', target]
    : ['--data-dir', target.dataDir, ...(target.databaseUrl ? ['--database-url', target.databaseUrl] : [])];

/**
 * Creates a registered key with the CLI and returns it (the last line of stdout). Pass the server
 * handle, not just its data dir, so that the key lands in the server's database on either engine.
 */
export async function createKey(
  target: string | Pick<ServerHandle, 'dataDir' | 'databaseUrl'>,
  args: readonly string[],
): Promise<string> {
  const result = await runCli(['keys', 'create', ...storeArgs(target), ...args]);
  if (result.code !== 0) throw new Error(`keys create failed: ${result.stderr}`);
  return result.stdout.trim().split('\n').at(-1) as string;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: unknown;
}

/** A raw HTTP request, for what the SDK cannot send. */
export async function raw(
  server: Pick<ServerHandle, 'url'>,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string | Uint8Array } = {},
): Promise<RawResponse> {
  const response = await fetch(server.url + path, { method, headers: init.headers, body: init.body });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

export const bearer = (key = 'sk_test_123') => ({ Authorization: `Bearer ${key}` });
export const form = (key = 'sk_test_123') => ({
  ...bearer(key),
  'Content-Type': 'application/x-www-form-urlencoded',
});

/**
 * One server for a whole test file: started in beforeAll, stopped (and its data removed) in
 * afterAll. The returned handle forwards to the running server, so tests use it as a ServerHandle.
 */
export function serverForFile(options: StartOptions = {}): ServerHandle {
  let handle: ServerHandle | undefined;
  beforeAll(async () => {
    handle = await startServer(options);
  });
  afterAll(async () => {
    await handle?.stop();
    if (handle) removeDir(handle.dataDir);
  });
  return new Proxy({} as ServerHandle, {
    get(_, property) {
      if (!handle) throw new Error('the server of this file starts in beforeAll');
      const value = (handle as unknown as Record<string | symbol, unknown>)[property];
      return typeof value === 'function' ? value.bind(handle) : value;
    },
  });
}
