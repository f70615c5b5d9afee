import type { Command } from 'commander';
import type { ImportReport } from '../backup/backup.js';
import type { MasterKey } from '../crypto/payload-cipher.js';
import { CliError } from './cli-error.js';
import { cliIo, cliRun } from './cli-io.js';
import { startProgress } from './progress.js';
import { addStoreOptions, type StoreOptions, withStore } from './store-options.js';

const nowSeconds = () => Math.floor(Date.now() / 1000);

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerBackup(program: Command): void {
  addStoreOptions(program.command('export'))
    .description('Write a consistent backup of every secret, still encrypted, to a file (mode 0600)')
    .requiredOption('--out <file>', 'the backup file to write')
    .option('--include-keys', "also back up the API keys' records: their hashes, never the keys")
    .addHelpText(
      'after',
      '\nExamples:\n  $ npx secret-store export --out backup-2026-11-23.jsonl\n  $ npx secret-store export --out backup-2026-11-23.jsonl --include-keys\n',
    )
    .action(async (options: StoreOptions & { out: string; includeKeys?: boolean }) => {
      await withStore(options, async ({ secrets: store, apiKeys }) => {
        const { exportSecrets } = await import('../backup/backup.js');
        const progress = startProgress('exporting', await store.count());
        try {
          const total = await exportSecrets(store, options.out, {
            now: nowSeconds(),
            onProgress: (n) => progress.update(n),
            apiKeys: options.includeKeys ? apiKeys : undefined,
          });
          progress.stop();
          const keys = options.includeKeys ? ` and ${total.apiKeys} API key record(s) (hashes only)` : '';
          cliIo().stdout.write(
            `Exported ${total.secrets} secret(s)${keys} to ${options.out}. Payloads stay encrypted: restoring needs this master key.\n`,
          );
        } catch (error) {
          progress.stop();
          throw error;
        }
      });
    });

  addStoreOptions(program.command('import'))
    .description('Restore a backup made by export; what is already present is skipped, so it is safe to repeat')
    .argument('<file>', 'the backup file')
    .option('--master-key-file <file>', "the data directory's key file, when it is not <data-dir>/master.key")
    .option(
      '--backup-key-file <file>',
      'a key file holding older master keys the backup was sealed with (since retired); only read, repeatable',
      collect,
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ npx secret-store import backup-2026-11-23.jsonl --data-dir ./restored\n  $ npx secret-store import old-backup.jsonl --backup-key-file ./master.key.before-retire\n',
    )
    .action(async (file: string, options: StoreOptions & { backupKeyFile?: string[] }) => {
      await withStore(options, async (stores, config) => {
        const [{ importSecrets }, { PayloadCipher }, { prettyLogger }, { openKeyring }, { loadKeys }] =
          await Promise.all([
            import('../backup/backup.js'),
            import('../crypto/payload-cipher.js'),
            import('../logging/logger.js'),
            import('../app/open-store.js'),
            import('../crypto/keyring.js'),
          ]);
        const keyring = await openKeyring(config, stores.engine, prettyLogger(cliIo().stderr));
        // Older keys open what they sealed; the active key still seals everything restored, and they
        // are never written to the data directory's key file.
        for (const path of options.backupKeyFile ?? []) {
          let keys: MasterKey[];
          try {
            keys = loadKeys({ kind: 'file', path, createIfMissing: false }).keys;
          } catch (error) {
            throw new CliError(`--backup-key-file: ${error instanceof Error ? error.message : String(error)}`);
          }
          keyring.add(keys);
        }
        const progress = startProgress('importing', 0);
        let report: ImportReport;
        try {
          report = await importSecrets(stores, new PayloadCipher(keyring), file, {
            now: nowSeconds(),
            onProgress: (n) => progress.update(n),
          });
        } catch (error) {
          progress.stop();
          throw new CliError(`import failed: ${error instanceof Error ? error.message : String(error)}`);
        }
        progress.stop();
        cliIo().stdout.write(importSummary(report));
        if (report.undecryptable > 0 || report.malformedLines.length > 0) cliRun().exitCode = 1;
      });
    });
}

function importSummary(report: ImportReport): string {
  const sealedWith = report.missingKeyIds.length
    ? ` (sealed with ${report.missingKeyIds.join(', ')}: give the key file that held it with --backup-key-file)`
    : '';
  const skipped = [
    report.alreadyPresent && `${report.alreadyPresent} already present`,
    report.scopeFull && `${report.scopeFull} into a full scope`,
    report.expired && `${report.expired} expired`,
    report.undecryptable && `${report.undecryptable} not decryptable with this keyring${sealedWith}`,
    report.malformedLines.length &&
      `${report.malformedLines.length} malformed (lines ${report.malformedLines.slice(0, 10).join(', ')})`,
  ].filter(Boolean);
  const keys =
    report.apiKeysImported || report.apiKeysPresent
      ? ` API keys: ${report.apiKeysImported} restored, ${report.apiKeysPresent} already present.`
      : '';
  return `Imported ${report.imported} secret(s); skipped ${skipped.length ? skipped.join(', ') : 'none'}.${keys}\n`;
}
