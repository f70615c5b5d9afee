/**
 * A PostgreSQL cluster of a test's own (initdb in a temp dir, run as the `postgres` user with
 * Debian's binaries), so stopping or freezing it disturbs nothing else. Needs root and the
 * binaries: `canRunCluster` says whether this machine has them, and suites skip otherwise.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, removeDir } from './server-process.js';

const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql') : [];
const bin = versions.length ? join('/usr/lib/postgresql', versions.sort().at(-1) as string, 'bin') : '';

export const canRunCluster = bin !== '' && existsSync(join(bin, 'initdb')) && process.getuid?.() === 0;

const asPostgres = (args: string[]) =>
  execFileSync('runuser', ['-u', 'postgres', '--', ...args], { stdio: 'pipe', timeout: 60_000 }).toString();

export interface Cluster {
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust authentication). */
  readonly url: string;
  start(): void;
  /** A fast shutdown: connections are closed, the server is gone until `start`. */
  stop(): void;
  /**
   * SIGSTOP to the postmaster and every backend, as a network partition or a hung host looks to a
   * client: connections stay open and nothing answers, not even a cancel.
   */
  freeze(): void;
  thaw(): void;
  /** Stops the cluster if it runs and deletes its files. */
  remove(): void;
}

export async function createCluster(): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'secret-store-pg-'));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const data = join(dir, 'data');
  const pgCtl = (args: string[]) =>
    asPostgres([join(bin, 'pg_ctl'), '-D', data, '-w', '-l', join(dir, 'log'), ...args]);
  asPostgres([join(bin, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres']);
  const processes = (): number[] => {
    const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)]).toString();
    return [
      postmaster,
      ...children
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map(Number),
    ];
  };
  const cluster: Cluster = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: () => pgCtl(['-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, 'start']),
    stop: () => pgCtl(['-m', 'fast', 'stop']),
    freeze() {
      // The postmaster first: stopped, it forks no new backend that would escape the freeze.
      for (const pid of processes()) process.kill(pid, 'SIGSTOP');
    },
    thaw() {
      for (const pid of processes().reverse()) process.kill(pid, 'SIGCONT');
    },
    remove() {
      try {
        cluster.thaw();
        cluster.stop();
      } catch {
        // not running
      }
      removeDir(dir);
    },
  };
  return cluster;
}
