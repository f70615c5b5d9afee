/**
 * `npm run bench:ab -- BASE_DIR [HEAD_DIR]`: compares two builds of the server (each a checkout with
 * its `dist/` built; HEAD_DIR defaults to this one) by server CPU per request, the figure that varies
 * least on shared cores. The builds run in turns (A, B, A, B, ...) on copies of one seeded SQLite
 * database, so a change in the machine's load falls on both; the report gives each build's median
 * and the ratio B / A per scenario. Used for the figures in performance commits (BENCHMARKS.md).
 *
 * AB_ROUNDS (default 5) turns per build, AB_SECONDS (default 3) per measurement after a 1 s warm-up,
 * AB_SCENARIOS (default "find,set,list"; "iset" is a set with an Idempotency-Key) to choose,
 * AB_DATABASE_URL to run on PostgreSQL instead, AB_PIN=0 not to pin the server and the load to
 * cores of their own (PostgreSQL's processes share them), AB_NODE_FLAGS for the server's node (a
 * profile: "--cpu-prof --cpu-prof-dir=DIR"), AB_FRESH=1 to start each server on an empty database it migrates itself (for builds whose schemas
 * differ; a set then creates before it replaces, and a find answers 404).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { migrateToLatest } from '../src/store/migrations.js';
import { openPostgres } from '../src/store/postgres/open-postgres.js';
import { openSqlite } from '../src/store/sqlite/open-sqlite.js';
import { cpuSeconds, findRequest, listRequest, type RequestSpec, replaceRequest } from './requests.js';
import { seed } from './seed.js';

const [baseArg, headArg] = process.argv.slice(2);
if (!baseArg) {
  process.stderr.write('usage: npm run bench:ab -- BASE_DIR [HEAD_DIR]\n');
  process.exit(2);
}
const BUILDS = { A: resolve(baseArg), B: resolve(headArg ?? join(import.meta.dirname, '..')) };
const ROUNDS = Number(process.env.AB_ROUNDS ?? 5);
const SECONDS = Number(process.env.AB_SECONDS ?? 3);
const SCENARIOS = (process.env.AB_SCENARIOS ?? 'find,set,list').split(',');
const ADMIN_URL = process.env.AB_DATABASE_URL;
const SCHEMA = `ab_${process.pid}`;
/** The run's own schema, dropped at the end, so nothing else in the database is touched. */
const DATABASE_URL = ADMIN_URL && withSearchPath(ADMIN_URL, SCHEMA);

function withSearchPath(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('options', `-c search_path=${schema}`);
  return parsed.toString();
}
const POPULATION = 1000;
const FRESH = process.env.AB_FRESH === '1';
const PIN = os.cpus().length >= 2 && process.env.AB_PIN !== '0';
if (PIN) spawnSync('taskset', ['-acp', '1', String(process.pid)]);
const CONNECTIONS = 32;

const REQUESTS: Record<string, RequestSpec> = {
  find: findRequest(POPULATION),
  set: replaceRequest(POPULATION),
  iset: replaceRequest(POPULATION, { idempotent: true }),
  list: listRequest(POPULATION, 10),
};

async function start(
  dir: string,
  dataDir: string,
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; port: number }> {
  const args = [join(dir, 'dist/main.js'), 'serve', '--port', '0', '--data-dir', dataDir];
  if (DATABASE_URL) args.push('--database-url', DATABASE_URL);
  const command = [process.execPath, ...(process.env.AB_NODE_FLAGS?.split(' ') ?? []), ...args];
  // On a machine of two or more cores the server gets core 0 and this process (the load) core 1,
  // so neither takes the other's time slices: the figures vary far less between turns.
  if (PIN) command.unshift('taskset', '-c', '0');
  const [file, ...rest] = command as [string, ...string[]];
  const child = spawn(file, rest, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolvePort, reject) => {
    let seen = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(seen);
      if (match) {
        child.stdout?.removeAllListeners('data');
        child.stdout?.resume();
        resolvePort(Number(match[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${seen}`)));
  });
  return { child, port };
}

async function cpuPerRequest(dir: string, scenario: string, template: string, env: NodeJS.ProcessEnv): Promise<number> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'secret-store-ab-run-'));
  if (!DATABASE_URL && !FRESH) cpSync(template, dataDir, { recursive: true });
  const { child, port } = await start(dir, dataDir, env);
  try {
    const url = `http://127.0.0.1:${port}`;
    const requests = [REQUESTS[scenario] as RequestSpec];
    await autocannon({ url, connections: CONNECTIONS, duration: 1, requests });
    const pid = child.pid as number;
    const before = cpuSeconds(pid);
    const result = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, requests });
    const failures = (FRESH && scenario === 'find' ? 0 : result.non2xx) + result.errors + result.timeouts;
    if (failures > 0) throw new Error(`${scenario} on ${dir}: ${failures} failures`);
    rates.push(result.requests.average);
    return ((cpuSeconds(pid) - before) / (result.requests.average * result.duration)) * 1e6;
  } finally {
    await new Promise((done) => {
      child.once('exit', done);
      child.kill('SIGTERM');
    });
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Requests per second of each measurement, in the order made (A, B, A, B...). */
let rates: number[] = [];

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

const masterKey = randomBytes(32);
const env = {
  SECRET_STORE_MASTER_KEY: masterKey.toString('base64'),
  SECRET_STORE_LOG_FORMAT: 'json',
  SECRET_STORE_DASHBOARD: 'false',
};
const template = mkdtempSync(join(os.tmpdir(), 'secret-store-ab-'));
try {
  let dropSchema: (() => Promise<void>) | undefined;
  if (ADMIN_URL && DATABASE_URL) {
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`create schema ${SCHEMA}`);
    dropSchema = async () => {
      await admin.query(`drop schema ${SCHEMA} cascade`);
      await admin.end();
    };
    const engine = await openPostgres({
      url: DATABASE_URL,
      poolSize: 4,
      statementTimeoutMs: 30_000,
      queryTimeoutMs: 35_000,
      connectTimeoutMs: 5000,
    });
    await migrateToLatest(engine);
    await seed(engine, masterKey, 0, POPULATION, 'seeding');
    await engine.close();
  } else if (!FRESH) {
    mkdirSync(template, { recursive: true });
    const engine = await openSqlite({ file: join(template, 'secret-store.db') });
    await migrateToLatest(engine);
    await seed(engine, masterKey, 0, POPULATION, 'seeding');
    await engine.close();
  }
  try {
    for (const scenario of SCENARIOS) {
      const figures: Record<'A' | 'B', number[]> = { A: [], B: [] };
      for (let round = 0; round < ROUNDS; round++) {
        for (const build of ['A', 'B'] as const) {
          figures[build].push(await cpuPerRequest(BUILDS[build], scenario, template, env));
        }
      }
      const rate = (build: number) => median(rates.filter((_, i) => i % 2 === build)).toFixed(0);
      const [rateA, rateB] = [rate(0), rate(1)];
      rates = [];
      const a = median(figures.A);
      const b = median(figures.B);
      process.stdout.write(
        `${scenario.padEnd(5)} A ${a.toFixed(1)} µs/req  B ${b.toFixed(1)} µs/req  B/A ${(b / a).toFixed(2)}  req/s A ${rateA} B ${rateB}  (A ${figures.A.map((v) => v.toFixed(0)).join(' ')} | B ${figures.B.map((v) => v.toFixed(0)).join(' ')})\n`,
      );
    }
  } finally {
    await dropSchema?.();
  }
} finally {
  rmSync(template, { recursive: true, force: true });
}
