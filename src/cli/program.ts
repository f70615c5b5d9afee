import { Command, CommanderError, type OutputConfiguration } from 'commander';
import { StartupError } from '../app/startup-error.js';
import { ConfigError } from '../config/server-config.js';
import { NewerSchemaError } from '../store/store-errors.js';
import { registerAudit } from './audit-command.js';
import { registerBackup } from './backup-command.js';
import { CliError } from './cli-error.js';
import { type CliIo, type CliRun, cliIo, processIo, runWith } from './cli-io.js';
import { registerKeys } from './keys-command.js';
import { registerRotateKey } from './rotate-key-command.js';
import { registerSecrets } from './secrets-command.js';
import { registerServe } from './serve-command.js';
import { addStoreOptions, type StoreOptions, storeConfig } from './store-options.js';
import { terminalText } from './table.js';

export function buildProgram(io: CliIo = processIo()): Command {
  const program = new Command('secret-store')
    .description("A self-hosted server for Stripe's Apps Secret Store API (/v1/apps/secrets)")
    .version('0.1.0')
    .showHelpAfterError()
    // Set before the subcommands exist: each copies its parent's settings when it is created.
    // commander then throws where it would exit, and runCli turns that into the exit code.
    .exitOverride()
    .configureOutput(outputTo(io))
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
        cliIo().stdout.write(ran.length ? `Applied ${ran.join(', ')}.\n` : 'The database is up to date.\n');
      } finally {
        await engine.close();
      }
    });
  return program;
}

const KNOWN_ERRORS = [CliError, ConfigError, StartupError, NewerSchemaError];

/**
 * commander's own output (help, usage errors) to the run's streams. Help width and colours follow
 * commander's defaults on the process's streams, and plain 80 columns on injected ones.
 */
function outputTo(io: CliIo): OutputConfiguration {
  const own = io.stdout === process.stdout && io.stderr === process.stderr;
  return {
    writeOut: (text: string) => io.stdout.write(text),
    writeErr: (text: string) => io.stderr.write(text),
    ...(own
      ? {}
      : {
          getOutHelpWidth: () => 80,
          getErrHelpWidth: () => 80,
          getOutHasColors: () => false,
          getErrHasColors: () => false,
        }),
  };
}

/** Runs the program on `argv` (as process.argv: node, script, args...) and returns its exit code. */
export async function runCli(argv: string[], io: CliIo = processIo()): Promise<number> {
  const run: CliRun = { io, exitCode: 0 };
  return runWith(run, async () => {
    try {
      await buildProgram(io).parseAsync(argv);
      return run.exitCode;
    } catch (error) {
      // Help, --version and usage errors: commander has already written what it had to say.
      if (error instanceof CommanderError) return error.exitCode;
      const known = KNOWN_ERRORS.some((k) => error instanceof k);
      const message = error instanceof Error ? error.message : String(error);
      // A message may quote what a tenant chose (a secret name in the server's answer).
      io.stderr.write(`secret-store: ${terminalText(known ? message : `unexpected error: ${message}`)}\n`);
      return 1;
    }
  });
}
