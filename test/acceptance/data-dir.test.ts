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
import { startServer, useTempDirs } from '../support/server-process.js';

const newDir = useTempDirs();
let umask: number;
beforeAll(() => {
  // The common default, under which files are created readable by everyone unless asked otherwise.
  umask = process.umask(0o022);
});
afterAll(() => {
  process.umask(umask);
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

describe('file modes under umask 022', () => {
  it('makes the data directory 0700 and the database, its -wal and -shm, the key file and the lock 0600', async () => {
    const dataDir = join(newDir(), 'fresh');
    const server = await startInProcess({ dataDir, engine: 'sqlite' });
    try {
      await server.stripe().apps.secrets.create({ name: 'm', payload: 'p', scope: { type: 'account' } });
      expect(modeOf(dataDir)).toBe(0o700);
      for (const file of [
        'secret-store.db',
        'secret-store.db-wal',
        'secret-store.db-shm',
        'master.key',
        'serve.lock',
        'serve.pid',
      ]) {
        expect(existsSync(join(dataDir, file)), file).toBe(true);
        expect(modeOf(join(dataDir, file)).toString(8), file).toBe('600');
      }
    } finally {
      await server.stop();
    }
  });

  it('tightens the directory and files of an older install, and says so', async () => {
    const dataDir = newDir();
    const first = await startInProcess({ dataDir, engine: 'sqlite' });
    await first.stripe().apps.secrets.create({ name: 'old', payload: 'p', scope: { type: 'account' } });
    await first.stop();
    chmodSync(dataDir, 0o755);
    for (const file of ['secret-store.db', 'secret-store.db-wal', 'secret-store.db-shm']) {
      if (existsSync(join(dataDir, file))) chmodSync(join(dataDir, file), 0o644);
    }
    const again = await startInProcess({ dataDir, engine: 'sqlite' });
    try {
      expect(again.output()).toContain(
        `the data directory ${dataDir} was open to other users (mode 0755); it is now 0700`,
      );
      expect(modeOf(dataDir)).toBe(0o700);
      for (const file of ['secret-store.db', 'secret-store.db-wal', 'secret-store.db-shm']) {
        if (existsSync(join(dataDir, file))) expect(modeOf(join(dataDir, file)).toString(8), file).toBe('600');
      }
      const found = await again
        .stripe()
        .apps.secrets.find({ name: 'old', scope: { type: 'account' }, expand: ['payload'] });
      expect(found.payload).toBe('p');
    } finally {
      await again.stop();
    }
  });

  it('writes exports 0600, also over an existing file that was readable by everyone', async () => {
    const dataDir = newDir();
    const server = await startInProcess({ dataDir, engine: 'sqlite' });
    await server.stripe().apps.secrets.create({ name: 'e', payload: 'p', scope: { type: 'account' } });
    await server.stop();
    const out = join(newDir(), 'exports');
    mkdirSync(out);
    const fresh = join(out, 'fresh.jsonl');
    expect((await cli(['export', '--out', fresh, '--data-dir', dataDir])).code).toBe(0);
    expect(modeOf(fresh).toString(8)).toBe('600');
    const existing = join(out, 'existing.jsonl');
    writeFileSync(existing, 'old contents that are longer than nothing\n'.repeat(100), { mode: 0o644 });
    expect(modeOf(existing).toString(8)).toBe('644');
    expect((await cli(['export', '--out', existing, '--data-dir', dataDir])).code).toBe(0);
    expect(modeOf(existing).toString(8)).toBe('600');
    expect(readFileSync(existing, 'utf8')).not.toContain('old contents');
    expect(readFileSync(existing, 'utf8').trim().split('\n')).toHaveLength(2);
  });
});
