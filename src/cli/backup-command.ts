import type { Command } from 'commander';
import type { ImportReport } from '../backup/backup.js';
import { CliError } from './cli-error.js';
import { cliIo, cliRun } from './cli-io.js';
import { startProgress } from './progress.js';
import { addStoreOptions, type StoreOptions, withStore } from './store-options.js';

const nowSeconds = () => Math.floor(Date.now() / 1000);

export function registerBackup(program: Command): void {
  addStoreOptions(program.command('export'))
    .description('Write a consistent backup of every secret, still encrypted, to a file (mode 0600)')
    .requiredOption('--out <file>', 'the backup file to write')
    .addHelpText('after', '\nExample:\n  $ npx secret-store export --out backup-2026-11-23.jsonl\n')
    .action(async (options: StoreOptions & { out: string }) => {
      await withStore(options, async ({ secrets: store }) => {
        const { exportSecrets } = await import('../backup/backup.js');
        const progress = startProgress('exporting', await store.count());
        try {
          const total = await exportSecrets(store, options.out, {
            now: nowSeconds(),
            onProgress: (n) => progress.update(n),
          });
          progress.stop();
          cliIo().stdout.write(
            `Exported ${total} secret(s) to ${options.out}. Payloads stay encrypted: restoring needs this master key.\n`,
          );
        } catch (error) {
          progress.stop();
          throw error;
        }
      });
    });

  addStoreOptions(program.command('import'))
    .description('Restore a backup made by export; secrets already present are skipped, so it is safe to repeat')
    .argument('<file>', 'the backup file')
    .option('--master-key-file <file>', 'the key file holding the key the backup was sealed with')
    .addHelpText(
      'after',
      '\nExample:\n  $ npx secret-store import backup-2026-11-23.jsonl --data-dir ./restored --master-key-file ./data/master.key\n',
    )
    .action(async (file: string, options: StoreOptions) => {
      await withStore(options, async ({ engine, secrets: store }, config) => {
        const [{ importSecrets }, { PayloadCipher }, { prettyLogger }, { openKeyring }] = await Promise.all([
          import('../backup/backup.js'),
          import('../crypto/payload-cipher.js'),
          import('../logging/logger.js'),
          import('../app/open-store.js'),
        ]);
        const keyring = await openKeyring(config, engine, prettyLogger(cliIo().stderr));
        const progress = startProgress('importing', 0);
        let report: ImportReport;
        try {
          report = await importSecrets(store, new PayloadCipher(keyring), file, {
            now: nowSeconds(),
            onProgress: (n) => progress.update(n),
          });
        } catch (error) {
          progress.stop();
          throw new CliError(`import failed: ${error instanceof Error ? error.message : String(error)}`);
        }
        progress.stop();
        const skipped = [
          report.alreadyPresent && `${report.alreadyPresent} already present`,
          report.scopeFull && `${report.scopeFull} into a full scope`,
          report.expired && `${report.expired} expired`,
          report.undecryptable && `${report.undecryptable} not decryptable with this keyring`,
          report.malformedLines.length &&
            `${report.malformedLines.length} malformed (lines ${report.malformedLines.slice(0, 10).join(', ')})`,
        ].filter(Boolean);
        cliIo().stdout.write(
          `Imported ${report.imported} secret(s); skipped ${skipped.length ? skipped.join(', ') : 'none'}.\n`,
        );
        if (report.undecryptable > 0 || report.malformedLines.length > 0) cliRun().exitCode = 1;
      });
    });
}
