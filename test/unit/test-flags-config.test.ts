/**
 * `--memory`, `--fixtures` and `--upstream` as configuration (README, "Configuration"): what they
 * combine with, what the environment may say, and the errors that name the flag at fault.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveServerConfig } from '../../src/config/server-config.js';
import { cli } from '../support/cli.js';
import { removeDir, tempDir } from '../support/server-process.js';

describe('--memory', () => {
  it('drops the database and key settings of the environment, which a CI job may set for the app', () => {
    const config = resolveServerConfig(
      { memory: true },
      {
        DATABASE_URL: 'postgres://app@db/app',
        SECRET_STORE_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'),
        SECRET_STORE_MASTER_KEY_FILE: '/etc/key',
      },
    );
    expect(config).toMatchObject({ memory: true, emulator: true });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.masterKey).toBeUndefined();
    expect(config.masterKeyFile).toBeUndefined();
    expect(resolveServerConfig({}, { SECRET_STORE_MEMORY: 'true' }).memory).toBe(true);
  });

  it('refuses flags that contradict it, and registered-keys mode', () => {
    for (const [flags, message] of [
      [
        { databaseUrl: 'postgres://db/x' },
        '--memory keeps everything in memory: it cannot be combined with --database-url',
      ],
      [{ masterKeyFile: '/k' }, 'it cannot be combined with --master-key-file'],
      [{ dataDir: '/d' }, 'it cannot be combined with --data-dir'],
      [{ emulator: false }, '--memory needs emulator mode'],
      [{ host: '0.0.0.0' }, '--memory needs emulator mode'],
    ] as const) {
      expect(() => resolveServerConfig({ memory: true, ...flags }, {})).toThrow(ConfigError);
      expect(() => resolveServerConfig({ memory: true, ...flags }, {})).toThrow(message);
    }
  });
});

describe('--fixtures', () => {
  it('is for emulator mode only', () => {
    expect(resolveServerConfig({ fixtures: 'f.json' }, {}).fixtures).toBe('f.json');
    expect(() => resolveServerConfig({ fixtures: 'f.json', emulator: false }, {})).toThrow(
      'fixtures (--fixtures or SECRET_STORE_FIXTURES) belong to test keys, which only emulator mode accepts',
    );
  });
});

describe('--upstream', () => {
  it('takes an http or https URL, with a path if need be', () => {
    for (const url of ['http://127.0.0.1:12112', 'https://api.stripe.com', 'http://[::1]:8000/mock/']) {
      expect(resolveServerConfig({ upstream: url }, {}).upstream).toBe(url);
    }
    expect(resolveServerConfig({}, { SECRET_STORE_UPSTREAM: 'http://mock:12111' }).upstream).toBe('http://mock:12111');
  });

  it('refuses anything else, naming the flag and the variable', () => {
    for (const url of ['127.0.0.1:12112', 'ftp://host', 'http://user:pw@host', 'http://host/?q=1', 'http://[zz]/']) {
      expect(() => resolveServerConfig({ upstream: url }, {})).toThrow(
        /upstream \(--upstream or SECRET_STORE_UPSTREAM\)/,
      );
    }
  });
});

describe('serve', () => {
  it('names the bad fixture and exits 1, leaving no signal handler behind', async () => {
    const dir = tempDir();
    try {
      const file = join(dir, 'fixtures.json');
      writeFileSync(file, JSON.stringify([{ name: 'a', payload: 'p', scope: { type: 'user' } }]));
      const handlers = process.listenerCount('SIGTERM');
      const result = await cli(['serve', '--memory', '--port', '0', '--fixtures', file]);
      expect(result).toMatchObject({ code: 1, stdout: '' });
      expect(result.stderr).toBe(
        `secret-store: ${file}: entry 1 ("a"): Missing required param: scope[user]. It is required when scope[type] is 'user'.\n`,
      );
      expect(process.listenerCount('SIGTERM')).toBe(handlers);
    } finally {
      removeDir(dir);
    }
  });

  it('says what is wrong and exits 1, before it listens', async () => {
    const result = await cli(['serve', '--memory', '--database-url', 'postgres://db/x']);
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toBe(
      'secret-store: --memory keeps everything in memory: it cannot be combined with --database-url\n',
    );
  });
});
