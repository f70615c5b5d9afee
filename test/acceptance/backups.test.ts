/**
 * Backups as the README tells an operator to make and restore them: its restore commands run
 * verbatim in a shell (with `npx secret-store` resolving to this build), API keys travel as hashes,
 * and a backup made before a key retirement restores with the old key file.
 */
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { type InProcessHandle, startInProcess } from '../support/in-process-server.js';
import { CLI, ROOT, runCommand, useTempDirs } from '../support/server-process.js';

const newDir = useTempDirs();

/** The README's shell blocks that contain `fragment`. */
function readmeBlocks(fragment: string): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  return [...readme.matchAll(/```sh\n([\s\S]*?)```/g)]
    .map((m) => m[1] as string)
    .filter((block) => block.includes(fragment));
}

/** Runs a README block with `sh -e` in `cwd`; `npx secret-store` runs this build's CLI. */
async function runBlock(block: string, cwd: string): Promise<{ code: number; output: string }> {
  const bin = join(cwd, '.bin');
  mkdirSync(bin, { recursive: true });
  const npx = join(bin, 'npx');
  writeFileSync(
    npx,
    `#!/bin/sh\n[ "$1" = secret-store ] || exit 127\nshift\nexec "${process.execPath}" "${CLI}" "$@"\n`,
  );
  chmodSync(npx, 0o755);
  const result = await runCommand('sh', ['-e', '-c', block], { cwd, env: { PATH: `${bin}:${process.env.PATH}` } });
  return { code: result.code, output: result.stdout + result.stderr };
}

async function seed(server: InProcessHandle, key: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await server
      .stripe(key)
      .apps.secrets.create({ name: `s${i}`, payload: `payload-${i}`, scope: { type: 'account' } });
  }
}

async function payloads(server: InProcessHandle, key: string): Promise<string[]> {
  const list = await server.stripe(key).apps.secrets.list({ scope: { type: 'account' }, expand: ['data.payload'] });
  return list.data.map((s) => s.payload as string).sort();
}

describe('backups', () => {
  it("the README's restore commands work verbatim, API keys included as hashes", async () => {
    const [block] = readmeBlocks('secret-store import backup.jsonl');
    expect(block, 'the README shows how to restore a backup').toBeDefined();
    const cwd = newDir();
    const dataDir = join(cwd, 'data');
    const created = await cli(['keys', 'create', '--mode', 'live', '--account', 'acct_Restore', '--data-dir', dataDir]);
    const key = created.stdout.trim().split('\n').at(-1) as string;
    const source = await startInProcess({ dataDir, engine: 'sqlite', config: { emulator: false } });
    try {
      await seed(source, key, 3);
      // Exported while the server serves, as the README says it can be.
      const run = await runBlock(block as string, cwd);
      expect(run.code, run.output).toBe(0);
    } finally {
      await source.stop();
    }
    const backup = readFileSync(join(cwd, 'backup.jsonl'), 'utf8');
    expect(backup).toContain('"kind":"api_key"');
    expect(backup).not.toContain(key);
    expect(backup).not.toContain('payload-0');
    const restored = await startInProcess({
      dataDir: join(cwd, 'restored'),
      engine: 'sqlite',
      config: { emulator: false },
    });
    try {
      // The same live key works on the restored server, and sees the same secrets.
      expect(await payloads(restored, key)).toEqual(['payload-0', 'payload-1', 'payload-2']);
    } finally {
      await restored.stop();
    }
    const again = await cli(['import', join(cwd, 'backup.jsonl'), '--data-dir', join(cwd, 'restored')]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('3 already present');
    expect(again.stdout).toContain('API keys: 0 restored, 1 already present');
  });

  it("retiring keys asks for --yes and names them; the README's restore of an older backup works verbatim", async () => {
    const [block] = readmeBlocks('--backup-key-file master.key.before-retire');
    expect(block, 'the README shows how to restore a backup from before a retirement').toBeDefined();
    const cwd = newDir();
    const dataDir = join(cwd, 'data');
    const source = await startInProcess({ dataDir, engine: 'sqlite' });
    await seed(source, 'sk_test_retire', 2);
    await source.stop();
    const oldBackup = join(cwd, 'old-backup.jsonl');
    expect((await cli(['export', '--out', oldBackup, '--data-dir', dataDir])).code).toBe(0);
    const rotated = await cli(['rotate-key', '--settle-seconds', '0', '--data-dir', dataDir]);
    expect(rotated.code, rotated.stderr).toBe(0);
    const keyFile = join(dataDir, 'master.key');
    const keysBefore = readFileSync(keyFile, 'utf8');

    const asked = await cli(['rotate-key', '--retire', '--data-dir', dataDir]);
    expect(asked.code).toBe(1);
    const [, retiring] = /Retiring (k[0-9a-f]{12})/.exec(asked.stdout) ?? [];
    expect(retiring, asked.stdout).toBeDefined();
    expect(asked.stdout).toContain('Backups exported while they were active are sealed with them');
    expect(asked.stdout).toContain('--backup-key-file');
    expect(asked.stdout).toContain('run again with --yes');
    expect(readFileSync(keyFile, 'utf8')).toBe(keysBefore);

    // Then the secrets are lost, and the backup from before the rotation is all there is.
    const lossy = await startInProcess({ dataDir, engine: 'sqlite' });
    for (const name of ['s0', 's1']) {
      await lossy.stripe('sk_test_retire').apps.secrets.deleteWhere({ name, scope: { type: 'account' } });
    }
    await lossy.stop();
    const run = await runBlock(block as string, cwd);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain(`Retired ${retiring}`);
    expect(run.output).toContain('Imported 2 secret(s)');
    // The old key opened the backup only: it is not back in the data directory's key file.
    expect(readFileSync(keyFile, 'utf8')).not.toBe(keysBefore);
    expect(readFileSync(join(cwd, 'master.key.before-retire'), 'utf8')).toBe(keysBefore);
    const restored = await startInProcess({ dataDir, engine: 'sqlite' });
    try {
      expect(await payloads(restored, 'sk_test_retire')).toEqual(['payload-0', 'payload-1']);
    } finally {
      await restored.stop();
    }

    // Without the old key file, import names the key the backup needs.
    const elsewhere = join(newDir(), 'restored');
    mkdirSync(elsewhere, { mode: 0o700 });
    copyFileSync(keyFile, join(elsewhere, 'master.key'));
    const without = await cli(['import', oldBackup, '--data-dir', elsewhere]);
    expect(without.code).toBe(1);
    expect(without.stdout).toContain(`2 not decryptable with this keyring (sealed with ${retiring}`);
    expect(without.stdout).toContain('--backup-key-file');
  });
});
