/**
 * Where the commands write, read and look up the environment. The binary uses the process's own;
 * tests run the program in-process with streams they read (see runCli), so the commands take them
 * from here rather than from `process`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync } from 'node:fs';

export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly env: NodeJS.ProcessEnv;
  /** All of standard input, read when a command asks for it. */
  readStdin(): string;
}

export const processIo = (): CliIo => ({
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  readStdin: () => readFileSync(0, 'utf8'),
});

/** A command that finished its work but must still exit non-zero (an import that skipped lines). */
export interface CliRun {
  readonly io: CliIo;
  exitCode: number;
}

const current = new AsyncLocalStorage<CliRun>();
/** The binary's own run: the one on the process's streams, outside any AsyncLocalStorage. */
let processRun: CliRun | undefined;

/**
 * Runs `fn` as part of `run`. Only runs on other streams (tests in-process) go through
 * AsyncLocalStorage: once used it turns on promise hooks for the rest of the process, and `serve`
 * would pay them on every promise of every request.
 */
export function runWith<T>(run: CliRun, fn: () => Promise<T>): Promise<T> {
  if (run.io.stdout !== process.stdout || run.io.stderr !== process.stderr) return current.run(run, fn);
  processRun = run;
  return fn();
}

/** The run a command belongs to; outside runCli (a library caller), the process's own streams. */
export function cliRun(): CliRun {
  processRun ??= { io: processIo(), exitCode: 0 };
  return current.getStore() ?? processRun;
}

export const cliIo = (): CliIo => cliRun().io;
