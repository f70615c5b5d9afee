/**
 * `npm run bench`: drives real server processes with autocannon and reports every figure as a ratio
 * to two references measured in the same run on the same machine: (1) the physical limit, a bare
 * node:http server answering the same routes with fixed bodies, and (2) a peer, stripe-stateful-mock
 * (the closest stateful Stripe emulator), on its customers endpoints. Writes BENCHMARKS.md.
 *
 * BENCH_SECONDS (default 5) per scenario after a 1 s warm-up; BENCH_SCALE (default 1000000)
 * secrets for the scale phase; BENCH_DATABASE_URL (or a local PostgreSQL) for the PostgreSQL runs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { chromium } from 'playwright-core';
import type { StoreEngine } from '../src/store/engine.js';
import { migrateToLatest } from '../src/store/migrations.js';
import { openPostgres } from '../src/store/postgres/open-postgres.js';
import { openSqlite } from '../src/store/sqlite/open-sqlite.js';
import { findPostgres } from '../test/support/find-postgres.js';
import { bearer, cpuSeconds, findRequest, listRequest, pick, type RequestSpec, replaceRequest } from './requests.js';
import { benchKey, seed, slot } from './seed.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const SCALE = Number(process.env.BENCH_SCALE ?? 1_000_000);
const CONNECTIONS = 50;
const ROOT = join(import.meta.dirname, '..');
const SMALL = 1000;
const DELETE_POOL_START = 2_000_000;
const DELETE_POOL = 100_000;

// ---- processes ----

interface Proc {
  readonly child: ChildProcess;
  readonly port: number;
  readonly startedMs: number;
  stop(): Promise<void>;
}

let nextPort = 13_100;

async function spawnProc(args: string[], env: NodeJS.ProcessEnv = {}, portEnv?: string): Promise<Proc> {
  const port = nextPort++;
  const startedMs = performance.now();
  const child = spawn(
    process.execPath,
    args.map((a) => a.replace('{port}', String(port))),
    {
      env: { ...process.env, ...env, ...(portEnv ? { [portEnv]: String(port) } : {}) },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    const onData = (d: Buffer) => {
      seen += d.toString();
      if (/listening on|Server started/.test(seen)) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${seen}`)));
  });
  return {
    child,
    port,
    startedMs,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

// ---- measuring ----

const REST_SECONDS = 10;

/**
 * RSS once the server has been idle for a while: right after a load, V8 still holds the heap it grew
 * for it (that is the peak, reported apart), and it gives memory back only after a few idle seconds.
 */
async function rssAtRest(pid: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, REST_SECONDS * 1000));
  return rssMb(pid);
}

interface Row {
  scenario: string;
  target: string;
  rps: number;
  p50: number;
  p99: number;
  cpu: number;
  rss: number;
  failures: number;
}

const rows: Row[] = [];

/**
 * Server CPU time per answered request, in microseconds. Unlike req/s it hardly depends on how much
 * of the shared cores the load generator took, so it is the steadier figure between runs.
 */
const cpuPerRequest = (r: Row) => (r.rps > 0 ? (r.cpu / 100 / r.rps) * 1e6 : 0);

type SetupRequest = (request: autocannon.Request, context: object) => autocannon.Request;

async function measure(scenario: string, target: string, proc: Proc, requests: RequestSpec[]): Promise<Row> {
  const url = `http://127.0.0.1:${proc.port}`;
  await autocannon({ url, connections: CONNECTIONS, duration: 1, requests });
  const pid = proc.child.pid as number;
  const cpuBefore = cpuSeconds(pid);
  let peakRss = rssMb(pid);
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssMb(pid));
  }, 200);
  const result = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, requests });
  clearInterval(sampler);
  const row: Row = {
    scenario,
    target,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpu: ((cpuSeconds(pid) - cpuBefore) / result.duration) * 100,
    rss: Math.max(peakRss, rssMb(pid)),
    failures: result.non2xx + result.errors + result.timeouts,
  };
  rows.push(row);
  process.stdout.write(
    `${target.padEnd(22)} ${scenario.padEnd(24)} ${Math.round(row.rps).toString().padStart(7)} req/s  p50 ${row.p50} ms  p99 ${row.p99} ms  cpu ${row.cpu.toFixed(0)}% (${cpuPerRequest(row).toFixed(0)} µs/req)  rss ${row.rss.toFixed(0)} MB  failures ${row.failures}\n`,
  );
  return row;
}

let newCounter = 0;
const newNameRequest: RequestSpec = {
  method: 'POST',
  path: '/v1/apps/secrets',
  setupRequest: (req) => {
    const n = newCounter++;
    return {
      ...req,
      headers: bearer('sk_test_benchnew'),
      body: `name=n&payload=new-${n}&scope[type]=user&scope[user]=usr_new${n}`,
    };
  },
};

let deleteCounter = DELETE_POOL_START;
const deleteRequest: RequestSpec = {
  method: 'POST',
  path: '/v1/apps/secrets/delete',
  setupRequest: (req) => {
    const s = slot(deleteCounter++);
    return {
      ...req,
      headers: bearer(benchKey(s.platform)),
      body: `name=${s.name}&scope[type]=user&scope[user]=${s.user}`,
    };
  },
};

function mixedRequest(population: number): RequestSpec {
  const find = findRequest(population);
  const replace = replaceRequest(population);
  return {
    setupRequest: (req, context) => {
      const chosen = Math.random() < 0.8 ? find : replace;
      // The spec of the scenario has no method or path of its own: each request takes its kind's.
      return (chosen.setupRequest as SetupRequest)({ ...req, method: chosen.method, path: chosen.path }, context);
    },
  };
}

// ---- the runs ----

interface EngineRun {
  readonly label: string;
  open(): Promise<StoreEngine>;
  serverArgs: string[];
  size(): Promise<number>;
  cleanup(): Promise<void>;
}

async function coldStart(args: string[], env: NodeJS.ProcessEnv, key: string, path: string): Promise<number> {
  const started = performance.now();
  const proc = await spawnProc(args, env);
  for (;;) {
    const response = await fetch(`http://127.0.0.1:${proc.port}${path}`, {
      headers: { authorization: `Bearer ${key}` },
    }).catch(() => undefined);
    if (response?.status === 200) break;
  }
  const ms = performance.now() - started;
  await proc.stop();
  return ms;
}

const scaleFigures: Record<string, Record<string, number>> = {};
let dashboardPaintMs: number | undefined;

/** First contentful paint of the dashboard in Debian's Chromium, best of 3 fresh page loads. */
async function measureDashboardPaint(): Promise<void> {
  if (!existsSync('/usr/bin/chromium')) return;
  const server = await spawnProc([
    join(ROOT, 'dist/main.js'),
    'serve',
    '--port',
    '{port}',
    '--data-dir',
    join(tmp, 'paint'),
  ]);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const paints: number[] = [];
    for (let i = 0; i < 3; i++) {
      const page = await (await browser.newContext()).newPage();
      await page.goto(`http://127.0.0.1:${server.port}/dashboard`, { waitUntil: 'load' });
      const fcp = await page.evaluate(
        "new Promise((resolve) => new PerformanceObserver((list) => resolve(list.getEntries()[0].startTime)).observe({ type: 'paint', buffered: true }))",
      );
      paints.push(Number(fcp));
      await page.close();
    }
    dashboardPaintMs = Math.min(...paints);
    process.stdout.write(`dashboard first contentful paint: ${paints.map((p) => p.toFixed(0)).join(' / ')} ms\n`);
  } finally {
    await browser.close();
    await server.stop();
  }
}

/** Measures one engine, then drops what the run made (the PostgreSQL schema), however it ended. */
async function benchEngine(run: EngineRun, withScale: boolean): Promise<void> {
  try {
    await measureEngine(run, withScale);
  } finally {
    await run.cleanup();
  }
}

async function measureEngine(run: EngineRun, withScale: boolean): Promise<void> {
  const masterKey = randomBytes(32);
  const env = {
    SECRET_STORE_MASTER_KEY: masterKey.toString('base64'),
    SECRET_STORE_LOG_FORMAT: 'json',
    SECRET_STORE_DASHBOARD: 'false',
  };
  const engine = await run.open();
  await migrateToLatest(engine);
  await seed(engine, masterKey, 0, SMALL, `seeding ${SMALL} secrets (${run.label})`);
  const server = await spawnProc([join(ROOT, 'dist/main.js'), 'serve', '--port', '{port}', ...run.serverArgs], env);
  const target = `secret-store ${run.label}`;
  try {
    const find1k = await measure('find with payload', target, server, [findRequest(SMALL)]);
    const list1k = await measure('list (limit 10)', target, server, [listRequest(SMALL, 10)]);
    await measure('list (limit 100)', target, server, [listRequest(SMALL, 100)]);
    await measure('set (replace)', target, server, [replaceRequest(SMALL)]);
    await measure('set (replace, Idempotency-Key)', target, server, [replaceRequest(SMALL, { idempotent: true })]);
    await measure('set (new name)', target, server, [newNameRequest]);
    await measure('mixed 80/20 read/write', target, server, [mixedRequest(SMALL)]);
    deleteCounter = DELETE_POOL_START;
    await seed(
      engine,
      masterKey,
      DELETE_POOL_START,
      DELETE_POOL_START + DELETE_POOL,
      `seeding ${DELETE_POOL} secrets to delete`,
    );
    await measure('delete', target, server, [deleteRequest]);
    if (!withScale) return;
    await seed(engine, masterKey, SMALL, SCALE, `seeding up to ${SCALE.toLocaleString('en-US')} secrets`);
    const findBig = await measure(`find at ${SCALE / 1000}k stored`, target, server, [findRequest(SCALE)]);
    const listBig = await measure(`list at ${SCALE / 1000}k stored`, target, server, [listRequest(SCALE, 10)]);
    scaleFigures[run.label] = {
      findP99Small: find1k.p99,
      findP99Big: findBig.p99,
      listP99Small: list1k.p99,
      listP99Big: listBig.p99,
      rss: await rssAtRest(server.child.pid as number),
      peakRss: Math.max(findBig.rss, listBig.rss),
      dbMb: (await run.size()) / 1e6,
    };
  } finally {
    await server.stop();
    await engine.close();
  }
  if (withScale) {
    const key = benchKey(slot(SCALE - 1).platform);
    const s = slot(SCALE - 1);
    const path = `/v1/apps/secrets/find?name=${s.name}&scope[type]=user&scope[user]=${s.user}&expand[]=payload`;
    const args = [join(ROOT, 'dist/main.js'), 'serve', '--port', '{port}', ...run.serverArgs];
    const runs = [
      await coldStart(args, env, key, path),
      await coldStart(args, env, key, path),
      await coldStart(args, env, key, path),
    ];
    (scaleFigures[run.label] as Record<string, number>).coldStartMs = Math.min(...runs);
  }
}

const MINIMAL = 'minimal handler';

async function benchReferences(): Promise<void> {
  const bare = await spawnProc(['--import', 'tsx', join(ROOT, 'bench/bare-server.ts'), '{port}']);
  try {
    const get = (path: string): RequestSpec => ({ method: 'GET', path, headers: bearer('sk_test_x') });
    await measure('find with payload', 'bare node:http', bare, [
      get('/v1/apps/secrets/find?name=k&scope[type]=account&expand[]=payload'),
    ]);
    await measure('list (limit 10)', 'bare node:http', bare, [get('/v1/apps/secrets?scope[type]=account&limit=10')]);
    await measure('set', 'bare node:http', bare, [
      {
        method: 'POST',
        path: '/v1/apps/secrets',
        headers: bearer('sk_test_x'),
        body: 'name=k&payload=v&scope[type]=user&scope[user]=usr_1',
      },
    ]);
  } finally {
    await bare.stop();
  }
  const minimal = await spawnProc([
    '--import',
    'tsx',
    join(ROOT, 'bench/minimal-server.ts'),
    '{port}',
    join(tmp, 'minimal.db'),
  ]);
  try {
    await measure('find with payload', MINIMAL, minimal, [findRequest(SMALL)]);
    await measure('set (replace)', MINIMAL, minimal, [replaceRequest(SMALL)]);
  } finally {
    await minimal.stop();
  }
  const peer = await spawnProc([join(ROOT, 'node_modules/stripe-stateful-mock/dist/cli.js')], {}, 'PORT');
  try {
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) {
      const response = await fetch(`http://127.0.0.1:${peer.port}/v1/customers`, {
        method: 'POST',
        headers: bearer('sk_test_peer'),
        body: `email=c${i}@example.com`,
      });
      ids.push(((await response.json()) as { id: string }).id);
    }
    await measure('retrieve customer', 'stripe-stateful-mock', peer, [
      {
        method: 'GET',
        setupRequest: (req) => ({
          ...req,
          path: `/v1/customers/${ids[pick(ids.length)]}`,
          headers: bearer('sk_test_peer'),
        }),
      },
    ]);
    await measure('list customers (10)', 'stripe-stateful-mock', peer, [
      { method: 'GET', path: '/v1/customers?limit=10', headers: bearer('sk_test_peer') },
    ]);
    await measure('create customer', 'stripe-stateful-mock', peer, [
      { method: 'POST', path: '/v1/customers', headers: bearer('sk_test_peer'), body: 'email=bench@example.com' },
    ]);
  } finally {
    await peer.stop();
  }
}

// ---- report ----

const find = (target: string, scenario: string) => rows.find((r) => r.target === target && r.scenario === scenario);
const ratio = (a: Row | undefined, b: Row | undefined) =>
  a && b && b.rps > 0 ? `${(a.rps / b.rps).toFixed(2)}x` : 'n/a';

function report(pgLabel: string | undefined): string {
  const bareGet = find('bare node:http', 'find with payload');
  const bareList = find('bare node:http', 'list (limit 10)');
  const barePost = find('bare node:http', 'set');
  const peerGet = find('stripe-stateful-mock', 'retrieve customer');
  const peerList = find('stripe-stateful-mock', 'list customers (10)');
  const peerPost = find('stripe-stateful-mock', 'create customer');
  const refs: Record<string, [Row | undefined, Row | undefined]> = {
    'find with payload': [bareGet, peerGet],
    'list (limit 10)': [bareList, peerList],
    'list (limit 100)': [bareList, peerList],
    'set (replace)': [barePost, peerPost],
    'set (replace, Idempotency-Key)': [barePost, peerPost],
    'set (new name)': [barePost, peerPost],
    delete: [barePost, peerPost],
    'mixed 80/20 read/write': [bareGet, peerGet],
  };
  const cpu = os.cpus();
  const lines = [
    '# Benchmarks',
    '',
    `Generated by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}. Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}. The load generator (autocannon, ${CONNECTIONS} connections, ${SECONDS} s per scenario after a 1 s warm-up) runs on the same cores as the server, so these are whole-machine figures; run-to-run spread on this machine is about ±10-20 %.`,
    '',
    `PostgreSQL (when present) is on the same machine, reached over ${PG_TARGET.via}, with a pool of 10 connections.`,
    '',
    'Ratios compare with references measured in the same run: **vs bare** is the physical limit (a bare `node:http` server answering the same route with a fixed, pre-serialised body); **vs peer** is stripe-stateful-mock on its customers endpoints (retrieve, list, create), the closest stateful Stripe emulator (it has no Secret Store, keeps nothing on disk and encrypts nothing). **vs minimal** compares with the least a server can do and still keep a secret, on the same machine: one better-sqlite3 select and one AES-GCM open per find, one AES-GCM seal and one upsert committed with synchronous=FULL per set, and no authentication, validation, audit or logging (`bench/minimal-server.ts`); its own **vs bare** is what storage and encryption alone cost here. **CPU µs/req** is the CPU time of the server process (all its threads) per answered request: the steadier figure between runs, since it hardly depends on how much of the shared cores the load generator took.',
    '',
    '| target | scenario | req/s | p50 ms | p99 ms | server CPU | CPU µs/req | server RSS MB | failures | vs bare | vs minimal | vs peer |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const scenario = r.scenario.startsWith('find at')
        ? 'find with payload'
        : r.scenario.startsWith('list at')
          ? 'list (limit 10)'
          : r.scenario;
      const ours = r.target.startsWith('secret-store');
      const [bare, peer] = ours || r.target === MINIMAL ? (refs[scenario] ?? [undefined, undefined]) : [];
      const minimal = ours ? find(MINIMAL, scenario) : undefined;
      const cells = [bare, minimal, r.target === MINIMAL ? undefined : peer].map((ref) => (ref ? ratio(r, ref) : ''));
      return `| ${r.target} | ${r.scenario} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.cpu.toFixed(0)} % | ${cpuPerRequest(r).toFixed(0)} | ${r.rss.toFixed(0)} | ${r.failures} | ${cells.join(' | ')} |`;
    }),
    '',
    '## Scale',
    '',
    ...Object.entries(scaleFigures).flatMap(([label, f]) => [
      `**${label}**, ${SCALE.toLocaleString('en-US')} secrets across 100 platforms and 100,000 user scopes (seeded with a progress bar):`,
      '',
      '| figure | value |',
      '|---|---|',
      `| find p99 at 1k stored → at ${SCALE / 1000}k stored | ${f.findP99Small} ms → ${f.findP99Big} ms (${(Number(f.findP99Big) / Math.max(Number(f.findP99Small), 1)).toFixed(2)}x) |`,
      `| list p99 at 1k stored → at ${SCALE / 1000}k stored | ${f.listP99Small} ms → ${f.listP99Big} ms (${(Number(f.listP99Big) / Math.max(Number(f.listP99Small), 1)).toFixed(2)}x) |`,
      `| database size | ${Number(f.dbMb).toFixed(0)} MB |`,
      `| server RSS with all of it stored, at rest (${REST_SECONDS} s after the load) | ${Number(f.rss).toFixed(0)} MB |`,
      `| server RSS peak while serving find and list at ${SCALE / 1000}k stored | ${Number(f.peakRss).toFixed(0)} MB |`,
      `| cold start to the first answered find (best of 3) | ${Number(f.coldStartMs).toFixed(0)} ms |`,
      '',
    ]),
    ...(dashboardPaintMs === undefined
      ? []
      : [
          `Dashboard: first contentful paint of \`/dashboard\` on loopback in Chromium, best of 3 fresh loads: ${dashboardPaintMs.toFixed(0)} ms.`,
          '',
        ]),
    '## Targets',
    '',
    targetLines(pgLabel).join('\n'),
    '',
    // The narrative is written by hand, beside this script, and kept across runs.
    readFileSync(join(ROOT, 'bench/how-it-is-fast.md'), 'utf8').trimEnd(),
    '',
  ];
  return lines.join('\n');
}

/** The targets of `npm run bench` (README, "Performance"); each is reported met or not. */
function targetLines(pgLabel: string | undefined): string[] {
  const out: string[] = ['| target | measured | met |', '|---|---|---|'];
  const check = (name: string, value: number | undefined, limit: number, higherIsBetter: boolean, unit = 'x') => {
    if (value === undefined || Number.isNaN(value)) return;
    const met = higherIsBetter ? value >= limit : value <= limit;
    out.push(`| ${name} | ${value.toFixed(2)}${unit} | ${met ? 'yes' : '**no**'} |`);
  };
  const bareGet = find('bare node:http', 'find with payload');
  const barePost = find('bare node:http', 'set');
  const sqlite = (scenario: string) => find('secret-store sqlite', scenario);
  const cpu = (row: Row | undefined) => (row ? cpuPerRequest(row) : undefined);
  check('server CPU per find with payload ≤ 60 µs (sqlite)', cpu(sqlite('find with payload')), 60, false, ' µs');
  check('server CPU per set ≤ 80 µs (sqlite)', cpu(sqlite('set (replace)')), 80, false, ' µs');
  check('server CPU per list (limit 10) ≤ 80 µs (sqlite)', cpu(sqlite('list (limit 10)')), 80, false, ' µs');
  const findRow = sqlite('find with payload');
  const setRow = sqlite('set (replace)');
  check(
    'find with payload ≥ 0.4x bare GET (sqlite)',
    findRow && bareGet ? findRow.rps / bareGet.rps : undefined,
    0.4,
    true,
  );
  check('durable set ≥ 0.3x bare POST (sqlite)', setRow && barePost ? setRow.rps / barePost.rps : undefined, 0.3, true);
  if (pgLabel) {
    const pgRow = (scenario: string) => find(`secret-store ${pgLabel}`, scenario);
    check(`find with payload ≥ 8000 req/s (${pgLabel})`, pgRow('find with payload')?.rps, 8000, true, ' req/s');
    check(`durable set ≥ 3000 req/s (${pgLabel})`, pgRow('set (replace)')?.rps, 3000, true, ' req/s');
  }
  for (const [label, scale] of Object.entries(scaleFigures)) {
    check(
      `find p99 at ${SCALE / 1000}k ≤ 1.5x p99 at 1k (${label})`,
      Number(scale.findP99Big) / Math.max(Number(scale.findP99Small), 1),
      1.5,
      false,
    );
    check(`RSS ≤ 150 MB with ${SCALE / 1000}k stored, at rest (${label})`, Number(scale.rss), 150, false, ' MB');
    check(
      `RSS ≤ 150 MB with ${SCALE / 1000}k stored, peak under load (${label})`,
      Number(scale.peakRss),
      150,
      false,
      ' MB',
    );
    check(`cold start to the first answered find ≤ 250 ms (${label})`, Number(scale.coldStartMs), 250, false, ' ms');
  }
  check('dashboard first contentful paint < 1000 ms', dashboardPaintMs, 1000, false, ' ms');
  const minimalFind = find(MINIMAL, 'find with payload');
  const minimalSet = find(MINIMAL, 'set (replace)');
  if (minimalFind && minimalSet && bareGet && barePost) {
    out.push(
      '',
      `For scale, the minimal handler itself (storage and encryption, nothing else) reaches ${ratio(minimalFind, bareGet)} of the bare GET for a find with payload and ${ratio(minimalSet, barePost)} of the bare POST for a durable set in this run.`,
    );
  }
  return out;
}

// ---- main ----

const SOCKET_DIR = '/var/run/postgresql';

/**
 * Where the PostgreSQL runs go, and how the report names it. A PostgreSQL on this machine is
 * reached over its Unix socket, as a server beside its database should be: over TCP loopback each
 * round trip costs the server more CPU (README, "PostgreSQL and several instances").
 * BENCH_DATABASE_URL chooses otherwise.
 */
function postgresTarget(): { url: string | undefined; via: string } {
  const chosen = process.env.BENCH_DATABASE_URL;
  if (chosen) return { url: chosen, via: 'BENCH_DATABASE_URL' };
  if (!existsSync(join(SOCKET_DIR, '.s.PGSQL.5432'))) return { url: undefined, via: 'TCP on 127.0.0.1' };
  return {
    url: `postgres://postgres@localhost/postgres?host=${encodeURIComponent(SOCKET_DIR)}`,
    via: `the local Unix socket (${SOCKET_DIR})`,
  };
}

const PG_TARGET = postgresTarget();

const tmp = mkdtempSync(join(os.tmpdir(), 'secret-store-bench-'));
try {
  await benchReferences();
  await measureDashboardPaint();
  const dbFile = join(tmp, 'sqlite', 'secret-store.db');
  await benchEngine(
    {
      label: 'sqlite',
      open: () => openSqlite({ file: dbFile }),
      serverArgs: ['--data-dir', join(tmp, 'sqlite')],
      size: async () =>
        ['', '-wal'].reduce((n, s) => n + (statSync(dbFile + s, { throwIfNoEntry: false })?.size ?? 0), 0),
      cleanup: async () => {},
    },
    SCALE > SMALL,
  );
  const postgres = await findPostgres({ SECRET_STORE_TEST_DATABASE_URL: PG_TARGET.url });
  if (postgres.url) {
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    const schema = `bench_${process.pid}`;
    await admin.query(`create schema ${schema}`);
    const url = new URL(postgres.url);
    url.searchParams.set('options', `-c search_path=${schema}`);
    await benchEngine(
      {
        label: 'postgres',
        open: () =>
          openPostgres({
            url: url.toString(),
            poolSize: 10,
            statementTimeoutMs: 30_000,
            queryTimeoutMs: 35_000,
            connectTimeoutMs: 5000,
          }),
        serverArgs: ['--data-dir', join(tmp, 'pg'), '--database-url', url.toString()],
        size: async () =>
          Number(
            (
              await admin.query(
                `select sum(pg_total_relation_size(c.oid)) as n from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1`,
                [schema],
              )
            ).rows[0].n,
          ),
        cleanup: async () => {
          await admin.query(`drop schema ${schema} cascade`);
          await admin.end();
        },
      },
      process.env.BENCH_PG_SCALE === '1' && SCALE > SMALL,
    );
  } else {
    process.stdout.write(`${postgres.reason.replace('suites', 'benchmarks')}\n`);
  }
  const markdown = report(postgres.url ? 'postgres' : undefined);
  writeFileSync(join(ROOT, 'BENCHMARKS.md'), markdown);
  process.stdout.write(`\n${markdown}\nWrote BENCHMARKS.md\n`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
