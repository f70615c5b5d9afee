/**
 * A PgBouncer of a test's own (Debian's binary, run as the `postgres` user), in front of the test
 * PostgreSQL, in the pooling mode the test asks for. Needs root and the binary: `canRunPgBouncer`
 * says whether this machine has them, and suites skip otherwise.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, removeDir } from './server-process.js';

const BINARY = '/usr/sbin/pgbouncer';

export const canRunPgBouncer = existsSync(BINARY) && process.getuid?.() === 0;

export interface PgBouncer {
  /** `target` with its host and port replaced by the pooler's. */
  readonly url: string;
  stop(): void;
}

export async function startPgBouncer(target: string, mode: 'transaction' | 'statement'): Promise<PgBouncer> {
  const dir = mkdtempSync(join(tmpdir(), 'secret-store-pgbouncer-'));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const server = new URL(target);
  const user = decodeURIComponent(server.username || 'postgres');
  const password = decodeURIComponent(server.password);
  writeFileSync(join(dir, 'users.txt'), `"${user}" "${password}"\n`);
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${server.hostname} port=${server.port || 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'users.txt')}`,
      `pool_mode = ${mode}`,
      'default_pool_size = 5',
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      `pidfile = ${join(dir, 'pgbouncer.pid')}`,
      '',
    ].join('\n'),
  );
  for (const file of ['users.txt', 'pgbouncer.ini']) chmodSync(join(dir, file), 0o644);
  execFileSync('runuser', ['-u', 'postgres', '--', BINARY, '-d', join(dir, 'pgbouncer.ini')], { stdio: 'pipe' });
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  url.search = '';
  for (let attempt = 0; ; attempt++) {
    const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      break;
    } catch (error) {
      if (attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await client.end().catch(() => {});
    }
  }
  return {
    url: url.toString(),
    stop() {
      try {
        process.kill(Number(readFileSync(join(dir, 'pgbouncer.pid'), 'utf8').trim()), 'SIGTERM');
      } catch {
        // already gone
      }
      removeDir(dir);
    },
  };
}
