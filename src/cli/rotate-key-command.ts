import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { keyringSource } from '../app/keyring-source.js';
import type { ServerConfig } from '../config/server-config.js';
import { ACTIVE_KEY } from '../crypto/active-key.js';
import { type Keyring, loadKeys, newMasterKey, writeKeyFile } from '../crypto/keyring.js';
import { type MasterKey, PayloadCipher } from '../crypto/payload-cipher.js';
import { prettyLogger } from '../logging/logger.js';
import { type PassResult, type ReencryptDeps, reencryptPass } from '../rotation/reencrypt.js';
import { CliError } from './cli-error.js';
import { cliIo, cliRun } from './cli-io.js';
import { startProgress } from './progress.js';
import { addStoreOptions, type StoreOptions, withStore } from './store-options.js';

interface RotateOptions extends StoreOptions {
  resume?: boolean;
  retire?: boolean;
  yes?: boolean;
  batchSize: string;
  settleSeconds: string;
}

const MAX_PASSES = 10;

/** Adds a new key at the top of the key file, so it becomes the one to activate. */
function addKeyToFile(config: ServerConfig): MasterKey {
  if (config.masterKey) {
    throw new CliError(
      'the keyring comes from SECRET_STORE_MASTER_KEY, which this command cannot change: generate a key ' +
        "(openssl rand -base64 32), put it first in SECRET_STORE_MASTER_KEY (comma-separated) on every instance, then run 'secret-store rotate-key --resume'",
    );
  }
  const current = loadKeys(keyringSource(config, false)).keys;
  const key = newMasterKey();
  writeKeyFile(config.masterKeyPath, [key, ...current]);
  cliIo().stdout.write(`Added master key ${key.id} to ${config.masterKeyPath}.\n`);
  return key;
}

export function registerRotateKey(program: Command): void {
  addStoreOptions(program.command('rotate-key'))
    .description(
      'Add a new master key, make it active on every server, and re-encrypt every stored payload with it; safe while servers run, resumable',
    )
    .option('--resume', 'do not add a key: activate the first key of the keyring and finish re-encrypting')
    .option('--retire', 'remove every key but the active one from the key file, once nothing uses them')
    .option(
      '--yes',
      'with --retire: go ahead (backups sealed with the retired keys then need a copy of the old key file)',
    )
    .option('--master-key-file <file>', 'the key file (default <data-dir>/master.key)')
    .option('--batch-size <n>', 'rows re-encrypted per batch', '500')
    .option('--settle-seconds <n>', 'how long running servers get to switch to the new key', '6')
    .addHelpText(
      'after',
      '\nExamples:\n  $ npx secret-store rotate-key              # new key, re-encrypt everything\n  $ npx secret-store rotate-key --resume     # after an interruption\n  $ npx secret-store rotate-key --retire     # says which keys would go, and asks for --yes\n  $ cp data/master.key master.key.before-retire && npx secret-store rotate-key --retire --yes\n',
    )
    .action(async (options: RotateOptions) => {
      const batchSize = Number(options.batchSize);
      const settleSeconds = Number(options.settleSeconds);
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new CliError('--batch-size must be a positive integer');
      if (!Number.isFinite(settleSeconds) || settleSeconds < 0) throw new CliError('--settle-seconds must be >= 0');
      await withStore(options, async (stores, config) => {
        const { openKeyring } = await import('../app/open-store.js');
        const keyring = await openKeyring(config, stores.engine, prettyLogger());
        const { meta } = stores;
        const deps: ReencryptDeps = {
          secrets: stores.secrets,
          idempotency: stores.idempotency,
          cipher: new PayloadCipher(keyring),
        };
        if (options.retire) {
          await retire(config, keyring, deps, batchSize, options.yes === true);
          return;
        }
        const target = options.resume
          ? (loadKeys(keyringSource(config, false)).keys[0] as MasterKey)
          : addKeyToFile(config);
        keyring.add([target]);
        if (keyring.active.id !== target.id) {
          await meta.set(ACTIVE_KEY, target.id);
          keyring.activate(target.id);
          cliIo().stdout.write(
            `Activated master key ${target.id}; giving running servers ${settleSeconds}s to switch.\n`,
          );
          await sleep(settleSeconds * 1000);
        }
        await reencryptUntilDone(deps, batchSize, target.id);
      });
    });
}

async function reencryptUntilDone(deps: ReencryptDeps, batchSize: number, keyId: string): Promise<void> {
  // Saved idempotent responses come on top; the progress total grows when they are reached.
  const total = await deps.secrets.count();
  for (let pass = 1; pass <= MAX_PASSES; pass++) {
    const progress = startProgress(`re-encrypting (pass ${pass})`, total);
    let result: PassResult;
    try {
      result = await reencryptPass(deps, {
        batchSize,
        onBatch: (r) => progress.update(r.scanned, `${r.resealed} re-sealed`),
      });
    } finally {
      progress.stop();
    }
    if (result.unreadable > 0) {
      throw new CliError(
        `${result.unreadable} stored value(s) open with no key of the keyring (corrupt, or sealed with a key that was removed); they were left as they are`,
      );
    }
    cliIo().stdout.write(
      `Pass ${pass}: looked at ${result.scanned}, re-sealed ${result.resealed}, ${result.raced} changed meanwhile.\n`,
    );
    if (result.resealed === 0 && result.raced === 0) {
      cliIo().stdout.write(
        `Done: everything is sealed with master key ${keyId}. Once every server has it, old keys can go: 'secret-store rotate-key --retire'.\n`,
      );
      return;
    }
  }
  throw new CliError(
    `values sealed with an old key kept appearing after ${MAX_PASSES} passes: is a server running without the new key in its keyring? Fix that, then run 'secret-store rotate-key --resume'`,
  );
}

async function retire(
  config: ServerConfig,
  keyring: Keyring,
  deps: ReencryptDeps,
  batchSize: number,
  confirmed: boolean,
): Promise<void> {
  const pending = await reencryptPass(deps, { batchSize, dryRun: true });
  if (pending.resealed > 0 || pending.unreadable > 0) {
    throw new CliError(
      `${pending.resealed + pending.unreadable} stored value(s) are not sealed with the active key ${keyring.active.id} yet: run 'secret-store rotate-key --resume' first`,
    );
  }
  const retired = keyring.ids.filter((id) => id !== keyring.active.id);
  const out = cliIo().stdout;
  if (retired.length === 0) {
    out.write(`No old key to retire: ${keyring.active.id} is the only one.\n`);
    return;
  }
  const where = config.masterKey ? 'SECRET_STORE_MASTER_KEY' : config.masterKeyPath;
  // Nothing stored needs the old keys any more, but backups exported before the rotation do.
  const warning =
    `Retiring ${retired.join(', ')}: they go from ${where}, and ${keyring.active.id} stays. ` +
    'Backups exported while they were active are sealed with them and can only be restored with a copy of the current key file ' +
    `(import --backup-key-file), so keep one somewhere safe first${config.masterKey ? '' : `, e.g. cp ${config.masterKeyPath} master.key.before-retire`}.\n`;
  if (!confirmed) {
    out.write(`${warning}Nothing was changed: run again with --yes to retire them.\n`);
    cliRun().exitCode = 1;
    return;
  }
  out.write(warning);
  if (config.masterKey) {
    out.write(`Nothing uses ${retired.join(', ')}: remove them from SECRET_STORE_MASTER_KEY on every instance.\n`);
    return;
  }
  writeKeyFile(config.masterKeyPath, [keyring.active]);
  out.write(`Retired ${retired.join(', ')}; the key file now holds ${keyring.active.id} only.\n`);
}
