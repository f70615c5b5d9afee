/**
 * The `secret-store` program run in-process, as `runCli` runs it for the binary, with streams the
 * test reads. Only a couple of tests spawn `dist/main.js` (cli-and-lifecycle.test.ts) to check the
 * real exit codes and stdout of the process.
 */
import { Writable } from 'node:stream';
import { runCli } from '../../src/cli/program.js';
import type { CliResult } from './server-process.js';

export type { CliResult } from './server-process.js';

class TextSink extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** Runs `secret-store ...args` in this process; `env` is added to the process's environment. */
export async function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}, input = ''): Promise<CliResult> {
  const stdout = new TextSink();
  const stderr = new TextSink();
  const code = await runCli(['node', 'secret-store', ...args], {
    stdout,
    stderr,
    env: { ...process.env, ...env },
    readStdin: () => input,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

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
