/**
 * Every way `serve` can fail to start, as an operator meets it: one sentence on stderr naming what
 * failed, the path or address, and the flag and variable that change it; exit status 1; no stack.
 * The program runs in-process (test/support/cli.ts); only the permission case spawns the binary, to
 * run it as an unprivileged user when the suite runs as root.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliResult, cli } from '../support/cli.js';
import { startInProcess } from '../support/in-process-server.js';
import { CLI, freePort, runCommand, useTempDirs } from '../support/server-process.js';

const newDir = useTempDirs();
const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
});

/** A port something else listens on. */
async function takenPort(): Promise<number> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return (server.address() as { port: number }).port;
}

/** A key for the runs that get as far as the keyring, so none writes a key file it does not need. */
const KEY = { SECRET_STORE_MASTER_KEY: Buffer.alloc(32, 3).toString('base64') };

/** Exit 1 and one line on stderr holding every fragment, without a stack trace; nothing started. */
function expectFailure(result: CliResult, ...fragments: string[]): void {
  expect(result.code).toBe(1);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^secret-store: /);
  expect(result.stderr).not.toMatch(/\n\s+at |unexpected error/);
  for (const fragment of fragments) expect(result.stderr).toContain(fragment);
  expect(result.stdout).not.toContain('listening on');
}

describe('start-up failures', () => {
  it('a port already in use names the address, --port and SECRET_STORE_PORT', async () => {
    const port = await takenPort();
    const result = await cli(['serve', '--port', String(port), '--data-dir', newDir()], KEY);
    expectFailure(result, `127.0.0.1:${port}`, 'already in use', '--port', 'SECRET_STORE_PORT');
  });

  it('a metrics port already in use names it, --metrics-port and SECRET_STORE_METRICS_PORT', async () => {
    const port = await takenPort();
    const result = await cli(['serve', '--port', '0', '--metrics-port', String(port), '--data-dir', newDir()], KEY);
    expectFailure(result, `127.0.0.1:${port}`, 'already in use', '--metrics-port', 'SECRET_STORE_METRICS_PORT');
  });

  it('an address that is not this machine names it, --host and SECRET_STORE_HOST', async () => {
    // 192.0.2.1 is TEST-NET-1: documentation only, never assigned to a machine.
    const result = await cli(['serve', '--host', '192.0.2.1', '--no-emulator', '--data-dir', newDir()], KEY);
    expectFailure(result, '192.0.2.1:12111', "not one of this machine's", '--host', 'SECRET_STORE_HOST');
  });

  it('a port that is not a port names the value, --port and SECRET_STORE_PORT, from a flag or the environment', async () => {
    for (const [args, env] of [
      [['--port', 'http'], {}],
      [[], { SECRET_STORE_PORT: 'http' }],
      [['--port', '70000'], {}],
    ] as const) {
      const result = await cli(['serve', ...args, '--data-dir', newDir()], env);
      expectFailure(result, 'invalid port', '--port or SECRET_STORE_PORT', 'a whole number from 0 to 65535');
      expect(result.stderr).not.toContain('NaN');
    }
  });

  it('a bad value of a setting without a flag names its variable, and never repeats a database URL', async () => {
    const sweep = await cli(['serve', '--data-dir', newDir()], { SECRET_STORE_SWEEP_INTERVAL_SECONDS: '0' });
    expectFailure(sweep, "invalid sweep-interval-seconds '0'", 'SECRET_STORE_SWEEP_INTERVAL_SECONDS');
    const url = await cli(['serve', '--database-url', 'mysql://root:hunter2@db/x', '--data-dir', newDir()]);
    expectFailure(url, '--database-url or DATABASE_URL', 'postgres://');
    expect(url.stderr).not.toContain('hunter2');
  });

  it('a file given as the data directory names it, --data-dir and SECRET_STORE_DATA_DIR', async () => {
    const file = join(newDir(), 'not-a-dir');
    writeFileSync(file, '');
    expectFailure(
      await cli(['serve', '--port', '0', '--data-dir', file], KEY),
      `cannot use ${file} as the data directory`,
      'a file',
      '--data-dir or SECRET_STORE_DATA_DIR',
    );
    expectFailure(
      await cli(['serve', '--port', '0', '--data-dir', join(file, 'below')], KEY),
      join(file, 'below', 'secret-store.db'),
      'a file, not a directory',
      '--data-dir or SECRET_STORE_DATA_DIR',
    );
  });

  it('an unwritable data directory names the database file, --data-dir and SECRET_STORE_DATA_DIR', async () => {
    const parent = newDir();
    chmodSync(parent, 0o755);
    const dataDir = join(parent, 'read-only');
    mkdirSync(dataDir, { mode: 0o555 });
    chmodSync(dataDir, 0o555);
    // Root writes anywhere: as root, the binary runs as the unprivileged user nobody.
    const asRoot = process.getuid?.() === 0;
    const result = await runCommand(process.execPath, [CLI, 'serve', '--port', '0', '--data-dir', dataDir], {
      env: KEY,
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
    });
    expectFailure(
      result,
      `cannot create the database ${join(dataDir, 'secret-store.db')}`,
      'permission denied',
      '--data-dir or SECRET_STORE_DATA_DIR',
    );
  });

  it('a file that is not a SQLite database names it, --data-dir and SECRET_STORE_DATA_DIR', async () => {
    const dataDir = newDir();
    writeFileSync(
      join(dataDir, 'secret-store.db'),
      'these bytes are not a SQLite database file, not at all\n'.repeat(4),
    );
    expectFailure(
      await cli(['serve', '--port', '0', '--data-dir', dataDir], KEY),
      `cannot open the database ${join(dataDir, 'secret-store.db')}`,
      'not a SQLite database',
      '--data-dir or SECRET_STORE_DATA_DIR',
    );
  });

  it('a missing or malformed master key file names it, --master-key-file and SECRET_STORE_MASTER_KEY_FILE', async () => {
    const dir = newDir();
    const missing = join(dir, 'missing.key');
    expectFailure(
      await cli(['serve', '--port', '0', '--data-dir', dir, '--master-key-file', missing]),
      `the master key file ${missing} does not exist`,
      '--master-key-file or SECRET_STORE_MASTER_KEY_FILE',
    );
    const malformed = join(dir, 'malformed.key');
    writeFileSync(malformed, 'not base64 at all\n');
    expectFailure(
      await cli(['serve', '--port', '0', '--data-dir', dir, '--master-key-file', malformed]),
      malformed,
      'not the base64 encoding',
      '--master-key-file or SECRET_STORE_MASTER_KEY_FILE',
    );
    expectFailure(
      await cli(['serve', '--port', '0', '--data-dir', dir], { SECRET_STORE_MASTER_KEY: 'short' }),
      'SECRET_STORE_MASTER_KEY',
    );
  });

  it('the wrong master key for a database names the key ids and the settings', async () => {
    const dataDir = newDir();
    await (await startInProcess({ dataDir, engine: 'sqlite', env: KEY })).stop();
    const other = { SECRET_STORE_MASTER_KEY: Buffer.alloc(32, 4).toString('base64') };
    expectFailure(
      await cli(['serve', '--port', '0', '--data-dir', dataDir], other),
      'the master key does not match this database',
      'SECRET_STORE_MASTER_KEY',
      '--data-dir or SECRET_STORE_DATA_DIR',
    );
  });

  it('an unreachable PostgreSQL names host, port and database but no password, --database-url and DATABASE_URL', async () => {
    const port = await freePort();
    const url = `postgres://app:hunter2@127.0.0.1:${port}/secrets`;
    const result = await cli(['serve', '--port', '0', '--data-dir', newDir(), '--database-url', url], KEY);
    expectFailure(result, `PostgreSQL at 127.0.0.1:${port}/secrets`, 'refused', '--database-url or DATABASE_URL');
    expect(result.stderr).not.toContain('hunter2');
  });

  it('a schema behind with --no-migrate names the database and the way out', async () => {
    const dataDir = newDir();
    expectFailure(
      await cli(['serve', '--port', '0', '--data-dir', dataDir, '--no-migrate'], KEY),
      join(dataDir, 'secret-store.db'),
      "run 'secret-store migrate' first",
      'SECRET_STORE_MIGRATE',
    );
  });

  it('a database migrated by a newer release names its migrations, with or without --no-migrate, and migrate refuses it', async () => {
    const dataDir = newDir();
    expect((await cli(['migrate', '--data-dir', dataDir], KEY)).code).toBe(0);
    const database = new SqliteDatabase(join(dataDir, 'secret-store.db'));
    database
      .prepare('insert into kysely_migration (name, timestamp) values (?, ?)')
      .run('9999_from_a_newer_release', new Date().toISOString());
    database.close();
    for (const flags of [[], ['--no-migrate']]) {
      expectFailure(
        await cli(['serve', '--port', '0', '--data-dir', dataDir, ...flags], KEY),
        join(dataDir, 'secret-store.db'),
        'migrated by a newer release',
        '9999_from_a_newer_release',
      );
    }
    // Nor does this release's `migrate` call such a database up to date.
    const migrated = await cli(['migrate', '--data-dir', dataDir], KEY);
    expect(migrated.code).toBe(1);
    expect(migrated.stderr).toContain('migrated by a newer release of secret-store (9999_from_a_newer_release)');
    expect(migrated.stderr).not.toMatch(/unexpected error|\n\s+at /);
  });

  it('emulator mode on a public address names --host, --emulator and their variables', async () => {
    expectFailure(
      await cli(['serve', '--host', '0.0.0.0', '--emulator', '--data-dir', newDir()]),
      '0.0.0.0 is not one',
      '--host or SECRET_STORE_HOST',
      '--emulator/--no-emulator or SECRET_STORE_EMULATOR',
    );
  });
});
