/**
 * The data directory on a full filesystem (a small tmpfs the test mounts; it needs root, and is
 * skipped otherwise): a payload read is not answered without its audit row, so it is a retryable 503
 * with no payload; a write is a retryable 503 and stores nothing; once space returns, everything
 * that was acknowledged is there, with its audit rows. SQLite only: the data directory is SQLite's.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServerConfig } from '../../src/config/server-config.js';
import { jsonLogger } from '../../src/logging/logger.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import { createTestClock } from '../support/in-process-server.js';
import { bearer, form, raw, removeDir, tempDir } from '../support/server-process.js';

function mountTmpfs(dir: string): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const mountPoint = tempDir('secret-store-full-');
const mounted = mountTmpfs(mountPoint);
if (!mounted) process.stdout.write('\nFULL-DISK TEST SKIPPED: mounting a tmpfs needs root\n');
const filler = join(mountPoint, 'filler');

/** Writes zeros until the filesystem has no room left. */
function fillDisk(): void {
  const fd = openSync(filler, 'w');
  try {
    for (const size of [1 << 20, 1 << 14, 1 << 10, 1]) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch {
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

describe.skipIf(!mounted)('a full disk', () => {
  let running: RunningServer;
  const clock = createTestClock();
  const key = 'sk_test_full_disk';
  const account = { type: 'account' } as const;
  let stripe: Stripe;

  beforeAll(async () => {
    const config = resolveServerConfig({ port: 0, dataDir: join(mountPoint, 'data') }, {});
    const sink = new (await import('node:stream')).PassThrough();
    sink.resume();
    running = await startServer(config, jsonLogger(sink), { clock: clock.nowMs });
    stripe = new Stripe(key, {
      host: '127.0.0.1',
      port: Number(new URL(running.url).port),
      protocol: 'http',
      maxNetworkRetries: 0,
    });
  });
  afterAll(async () => {
    await running?.close();
    if (mounted) execFileSync('umount', [mountPoint]);
    removeDir(mountPoint);
  });

  it('refuses payload reads and writes with a retryable 503 and loses nothing acknowledged', async () => {
    const acknowledged = [];
    for (let i = 0; i < 5; i++) {
      acknowledged.push(
        await stripe.apps.secrets.create({ name: `kept${i}`, payload: `payload-${i}`, scope: account }),
      );
    }
    fillDisk();

    for (let i = 0; i < 5; i++) {
      const read = await raw(
        { url: running.url },
        'GET',
        `/v1/apps/secrets/find?name=kept${i}&scope[type]=account&expand[]=payload`,
        {
          headers: bearer(key),
        },
      );
      expect(read.status).toBe(503);
      expect(read.headers.get('stripe-should-retry')).toBe('true');
      expect(read.text).not.toContain(`payload-${i}`);

      const write = await raw({ url: running.url }, 'POST', '/v1/apps/secrets', {
        headers: form(key),
        body: `name=lost${i}&payload=${'x'.repeat(2000)}&scope[type]=account`,
      });
      expect(write.status).toBe(503);
      expect(write.headers.get('stripe-should-retry')).toBe('true');
    }

    rmSync(filler);
    const listed = await stripe.apps.secrets.list({ scope: account, expand: ['data.payload'] });
    expect(listed.data.map((s) => [s.name, s.payload]).sort()).toEqual(
      acknowledged.map((s, i) => [s.name, `payload-${i}`]).sort(),
    );
    const audit = await running.composition.stores.audit.query({ limit: 1000 });
    const recorded = new Set(audit.map((e) => e.requestId));
    for (const secret of acknowledged) expect(recorded.has(secret.lastResponse.requestId)).toBe(true);
    const again = await stripe.apps.secrets.create({ name: 'after', payload: 'p', scope: account });
    expect(again.name).toBe('after');
  });
});
