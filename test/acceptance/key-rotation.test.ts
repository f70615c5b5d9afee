/**
 * Master key rotation with `secret-store rotate-key`, while a server serves. The server and the
 * command run in this process, and the traffic is a known set of requests fired at the steps the
 * rotation announces (the new key activated, the server switched to it, the re-encryption under
 * way), so it is in flight while the rotation proceeds however loaded the machine is. Only the
 * interrupted rotation spawns the command: killing it is the subject.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { cli as runCli, startCli } from '../support/cli.js';
import { type InProcessHandle, startInProcess } from '../support/in-process-server.js';
import { CLI, removeDir, tempDir } from '../support/server-process.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) removeDir(dir);
});

/** The key id in each stored envelope: [version][id length][id]... */
function envelopeKeyIds(dataDir: string): { secrets: string[]; responses: string[] } {
  const db = new Database(join(dataDir, 'secret-store.db'), { readonly: true });
  try {
    const idOf = (b: Buffer) => b.toString('ascii', 2, 2 + (b[1] as number));
    const secrets = (db.prepare('select ciphertext from secrets').all() as { ciphertext: Buffer }[]).map((r) =>
      idOf(r.ciphertext),
    );
    const responses = (
      db.prepare('select body from idempotency_keys where body is not null').all() as { body: string }[]
    ).map((r) => idOf(Buffer.from(r.body, 'base64')));
    return { secrets, responses };
  } finally {
    db.close();
  }
}

const keyIdsInFile = (dataDir: string) =>
  readFileSync(join(dataDir, 'master.key'), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));

const startOn = (dataDir: string, keyPollSeconds?: number) =>
  startInProcess({ dataDir, engine: 'sqlite', config: { keyPollSeconds } });

async function seed(server: InProcessHandle, users: number) {
  const stripe = server.stripe('sk_test_rotation');
  for (let u = 0; u < users; u++) {
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        stripe.apps.secrets.create({
          name: `s${i}`,
          payload: `payload-${u}-${i}`,
          scope: { type: 'user', user: `usr_${u}` },
        }),
      ),
    );
  }
}

describe('master key rotation', () => {
  it('re-encrypts every row while set/find traffic runs, with no failed request', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const server = await startOn(dataDir, 1);
    try {
      await seed(server, 5);
      const before = envelopeKeyIds(dataDir);
      const oldKey = before.secrets[0];
      expect(new Set(before.secrets)).toEqual(new Set([oldKey]));

      const stripe = server.stripe('sk_test_rotation');
      /** One request for each of the 50 secrets: a third rewrite theirs, the rest read it. */
      const wave = (label: string) =>
        Promise.allSettled(
          Array.from({ length: 50 }, async (_, i) => {
            const scope = { type: 'user' as const, user: `usr_${i % 5}` };
            const name = `s${Math.floor(i / 5)}`;
            if (i % 3 === 0) {
              await stripe.apps.secrets.create({ name, payload: `rewritten-${label}-${i}`, scope });
              return;
            }
            const found = await stripe.apps.secrets.find({ name, scope, expand: ['payload'] });
            expect(found.payload).toMatch(/^(payload|rewritten)-/);
          }),
        );

      // The settle gives the server (polling each second) two seconds to switch keys.
      const rotation = startCli(['rotate-key', '--data-dir', dataDir, '--settle-seconds', '2', '--batch-size', '7']);
      const waves: Array<Promise<PromiseSettledResult<void>[]>> = [];
      const firedDuringRotation: boolean[] = [];
      const fire = (label: string) => {
        firedDuringRotation.push(!rotation.finished());
        waves.push(wave(label));
      };
      // The new key is active in the database; the server still seals with the old one.
      await rotation.stdout.written('Activated master key');
      fire('activated');
      // The server seals with the new key; the command re-encrypts once the settle is over.
      await server.logged('now sealing with master key');
      fire('switched');
      // The re-encryption has done its first batch.
      await rotation.stdout.written('re-encrypting (pass 1)');
      fire('re-encrypting');
      const result = await rotation.result;
      const outcomes = (await Promise.all(waves)).flat();

      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('Done: everything is sealed with master key');
      expect(firedDuringRotation).toEqual([true, true, true]);
      expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
      expect(outcomes).toHaveLength(150);
      const after = envelopeKeyIds(dataDir);
      const newKey = /sealed with master key (k[0-9a-f]+)/.exec(result.stdout)?.[1];
      expect(newKey).toBeDefined();
      expect(newKey).not.toBe(oldKey);
      expect(after.secrets).toHaveLength(50);
      expect(after.secrets.every((id) => id === newKey)).toBe(true);
      expect(after.responses.length).toBeGreaterThan(0);
      expect(after.responses.every((id) => id === newKey)).toBe(true);
      expect(server.output()).toContain(`now sealing with master key ${newKey}`);

      // The old key can be retired; the server, restarted on the retired key file, still reads all.
      const retired = await runCli(['rotate-key', '--retire', '--yes', '--data-dir', dataDir]);
      expect(retired.code, retired.stderr).toBe(0);
      expect(keyIdsInFile(dataDir)).toHaveLength(1);
      await server.stop();
      const restarted = await startOn(dataDir);
      try {
        const found = await restarted
          .stripe('sk_test_rotation')
          .apps.secrets.find({ name: 's9', scope: { type: 'user', user: 'usr_4' }, expand: ['payload'] });
        expect(found.payload).toMatch(/^(payload|rewritten)-/);
      } finally {
        await restarted.stop();
      }
    } finally {
      await server.stop();
    }
  });

  it('resumes an interrupted rotation, and refuses to retire keys still in use', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const server = await startOn(dataDir);
    await seed(server, 30);
    await server.stop();
    const oldKey = envelopeKeyIds(dataDir).secrets[0];

    // Kill the rotation (SIGKILL) as soon as it reports its first batch.
    const child = spawn(process.execPath, [
      CLI,
      'rotate-key',
      '--data-dir',
      dataDir,
      '--settle-seconds',
      '0',
      '--batch-size',
      '1',
    ]);
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('re-encrypting')) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.once('exit', () => resolve());
    });
    await new Promise((resolve) => child.once('exit', resolve));
    const partial = envelopeKeyIds(dataDir).secrets;
    expect(partial).toHaveLength(300);
    const newKeys = partial.filter((id) => id !== oldKey);
    expect(newKeys.length).toBeGreaterThan(0);
    expect(newKeys.length).toBeLessThan(300);

    const refused = await runCli(['rotate-key', '--retire', '--data-dir', dataDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('not sealed with the active key');

    const resumed = await runCli(['rotate-key', '--resume', '--data-dir', dataDir]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const after = envelopeKeyIds(dataDir);
    expect(new Set(after.secrets)).toEqual(new Set([newKeys[0]]));
    expect(new Set(after.responses)).toEqual(new Set([newKeys[0]]));

    const again = await startOn(dataDir);
    try {
      const found = await again
        .stripe('sk_test_rotation')
        .apps.secrets.find({ name: 's4', scope: { type: 'user', user: 'usr_29' }, expand: ['payload'] });
      expect(found.payload).toBe('payload-29-4');
    } finally {
      await again.stop();
    }
  });

  it('refuses a new key from the command when the keyring comes from the environment', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const key = Buffer.alloc(32, 3).toString('base64');
    const result = await runCli(['rotate-key', '--data-dir', dataDir], { SECRET_STORE_MASTER_KEY: key });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('put it first in SECRET_STORE_MASTER_KEY');
  });
});
