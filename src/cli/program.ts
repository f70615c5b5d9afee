import { Command } from 'commander';
import { ConfigError } from '../config/server-config.js';
import { WrongMasterKeyError } from '../crypto/active-key.js';
import { registerAudit } from './audit-command.js';
import { registerBackup } from './backup-command.js';
import { CliError } from './cli-error.js';
import { registerKeys } from './keys-command.js';
import { registerRotateKey } from './rotate-key-command.js';
import { registerSecrets } from './secrets-command.js';
import { registerServe } from './serve-command.js';
import { addStoreOptions, type StoreOptions, storeConfig } from './store-options.js';

export function buildProgram(): Command {
  const program = new Command('secret-store')
    .description("A self-hosted server for Stripe's Apps Secret Store API (/v1/apps/secrets)")
    .version('0.1.0')
    .showHelpAfterError()
    .addHelpText('after', '\nExample:\n  $ npx secret-store serve\n  $ npx secret-store keys create --mode test\n');
  registerServe(program);
  registerKeys(program);
  registerRotateKey(program);
  registerSecrets(program);
  registerBackup(program);
  registerAudit(program);
  addStoreOptions(program.command('migrate'))
    .description('Run the database migrations that have not run yet, then exit')
    .addHelpText('after', '\nExample:\n  $ npx secret-store migrate --database-url postgres://app@db/secrets\n')
    .action(async (options: StoreOptions) => {
      const [{ openEngine }, { migrateToLatest }] = await Promise.all([
        import('../app/open-store.js'),
        import('../store/migrations.js'),
      ]);
      const engine = await openEngine(storeConfig(options));
      try {
        const ran = await migrateToLatest(engine);
        process.stdout.write(ran.length ? `Applied ${ran.join(', ')}.\n` : 'The database is up to date.\n');
      } finally {
        await engine.close();
      }
    });
  return program;
}

const KNOWN_ERRORS = [CliError, ConfigError, WrongMasterKeyError];

export async function runCli(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    const known = KNOWN_ERRORS.some((k) => error instanceof k);
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`secret-store: ${known ? message : `unexpected error: ${message}`}\n`);
    process.exitCode = 1;
  }
}
