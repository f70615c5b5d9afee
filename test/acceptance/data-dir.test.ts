/**
 * The SQLite data directory: one server at a time (CLI commands alongside), and files readable by
 * their owner only whatever the umask. The second server and the CLI run in-process; the first
 * server is a real process, so the refusal must name another process's pid.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { startInProcess } from '../support/in-process-server.js';
import { removeDir, startServer, tempDir } from '../support/server-process.js';

const dirs: string[] = [];
const newDir = () => {
  const dir = tempDir();
  dirs.push(dir);
  return dir;
};
let umask: number;
beforeAll(() => {
  // The common default, under which files are created readable by everyone unless asked otherwise.
  umask = process.umask(0o022);
});
afterAll(() => {
  process.umask(umask);
  for (const dir of dirs) removeDir(dir);
});

const modeOf = (path: string) => statSync(path).mode & 0o777;

describe('one server per SQLite data directory', () => {
  it('refuses a second server naming the running one, lets CLI writes through, and frees the lock on exit', async () => {
    const dataDir = newDir();
    const first = await startServer({ dataDir, engine: 'sqlite' });
    try {
      const second = await cli(['serve', '--port', '0', '--data-dir', dataDir]);
      expect(second.code).toBe(1);
      expect(second.stderr.trim().split('\n')).toHaveLength(1);
      expect(second.stderr).toContain(`the data directory ${dataDir} is in use by another secret-store server`);
      expect(second.stderr).toContain(`(pid ${first.process.pid})`);
      expect(second.stderr).toContain('--data-dir or SECRET_STORE_DATA_DIR');

      // Commands that write share the database with the running server, as SQLite allows.
      const created = await cli([
        'keys',
        'create',
        '--mode',
        'test',
        '--account',
        'acct_Beside',
        '--data-dir',
        dataDir,
      ]);
      expect(created.code, created.stderr).toBe(0);
      const key = created.stdout.trim().split('\n').at(-1) as string;
      await first.stripe(key).apps.secrets.create({ name: 'beside', payload: 'p', scope: { type: 'account' } });
      const exported = await cli(['export', '--out', join(dataDir, 'backup.jsonl'), '--data-dir', dataDir]);
      expect(exported.code, exported.stderr).toBe(0);
      const imported = await cli(['import', join(dataDir, 'backup.jsonl'), '--data-dir', dataDir]);
      expect(imported.code, imported.stderr).toBe(0);
      expect(imported.stdout).toContain('1 already present');
      expect((await cli(['migrate', '--data-dir', dataDir])).code).toBe(0);
      const [listed] = JSON.parse((await cli(['keys', 'list', '--json', '--data-dir', dataDir])).stdout) as [
        { id: string },
      ];
      expect((await cli(['keys', 'revoke', listed.id, '--data-dir', dataDir])).code).toBe(0);
      await expect(first.stripe(key).apps.secrets.list({ scope: { type: 'account' } })).rejects.toThrow(
        /expired|revoked/i,
      );
    } finally {
      await first.stop();
    }
    expect(existsSync(join(dataDir, 'serve.pid'))).toBe(false);
    const next = await startInProcess({ dataDir, engine: 'sqlite' });
    await next.stop();
  });

  it('is free again after a server is killed, with no stale lock to clear', async () => {
    const dataDir = newDir();
    const killed = await startServer({ dataDir, engine: 'sqlite' });
    expect(readFileSync(join(dataDir, 'serve.pid'), 'utf8').trim()).toBe(String(killed.process.pid));
    await killed.stop('SIGKILL');
    const next = await startInProcess({ dataDir, engine: 'sqlite' });
    try {
      expect(readFileSync(join(dataDir, 'serve.pid'), 'utf8').trim()).toBe(String(process.pid));
    } finally {
      await next.stop();
    }
  });
});
