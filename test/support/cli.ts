/**
 * The `secret-store` program run in-process, as `runCli` runs it for the binary, with streams the
 * test reads. Only a couple of tests spawn `dist/main.js` (cli-and-lifecycle.test.ts) to check the
 * real exit codes and stdout of the process.
 */
import { runCli } from '../../src/cli/program.js';
import type { CliResult } from './server-process.js';
import { TextSink } from './text-sink.js';

export type { CliResult } from './server-process.js';

export interface RunningCli {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /** Whether the command has finished. */
  readonly finished: () => boolean;
  readonly result: Promise<CliResult>;
}

/** Starts `secret-store ...args` in this process; the test can wait on what it writes meanwhile. */
export function startCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, input = ''): RunningCli {
  const stdout = new TextSink();
  const stderr = new TextSink();
  let finished = false;
  const result = runCli(['node', 'secret-store', ...args], {
    stdout,
    stderr,
    env: { ...process.env, ...env },
    readStdin: () => input,
  }).then((code) => {
    finished = true;
    return { code, stdout: stdout.text, stderr: stderr.text };
  });
  return { stdout, stderr, finished: () => finished, result };
}

/** Runs `secret-store ...args` in this process; `env` is added to the process's environment. */
export const cli = (args: readonly string[], env: NodeJS.ProcessEnv = {}, input = ''): Promise<CliResult> =>
  startCli(args, env, input).result;

/** The CLI flags that point a command at a server's database (its data dir, or its PostgreSQL). */
export const storeArgs = (target: string | { dataDir: string; databaseUrl: string | undefined }): string[] =>
  typeof target === 'string'
    ? ['--data-dir', target]
    : ['--data-dir', target.dataDir, ...(target.databaseUrl ? ['--database-url', target.databaseUrl] : [])];

/**
 * Creates a registered key with `keys create` and returns it (the last line of stdout). Pass the
 * server handle, not just its data dir, so that the key lands in the server's database on either engine.
 */
export async function createKey(
  target: string | { dataDir: string; databaseUrl: string | undefined },
  args: readonly string[],
): Promise<string> {
  const result = await cli(['keys', 'create', ...storeArgs(target), ...args]);
  if (result.code !== 0) throw new Error(`keys create failed: ${result.stderr}`);
  return result.stdout.trim().split('\n').at(-1) as string;
}
