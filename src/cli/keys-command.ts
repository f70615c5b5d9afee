import { type Command, Option } from 'commander';
import { ACCOUNT_ID_PATTERN, generateApiKey, USER_ID_PATTERN } from '../keys/api-keys.js';
import type { ApiKeyStore } from '../store/api-key-store.js';
import { CliError } from './cli-error.js';
import { cliIo } from './cli-io.js';
import { addStoreOptions, type StoreOptions, withStore } from './store-options.js';
import { formatTable } from './table.js';

const withKeyStore = <T>(options: StoreOptions, fn: (store: ApiKeyStore) => Promise<T>): Promise<T> =>
  withStore(options, (stores) => fn(stores.apiKeys));
const nowSeconds = () => Math.floor(Date.now() / 1000);

export function registerKeys(program: Command): void {
  const keys = program
    .command('keys')
    .description('Create, list and revoke API keys (stored hashed; a key is shown once, when it is created)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ npx secret-store keys create --mode test --account acct_1Example\n  $ npx secret-store keys list\n  $ npx secret-store keys revoke key_4f9sXq2Lm0Pz8Rt1Ab3C\n',
    );

  addStoreOptions(keys.command('create'))
    .description('Create an API key; it is printed once, alone on the last line, and stored hashed')
    .addOption(new Option('--mode <mode>', 'test or live').choices(['test', 'live']).makeOptionMandatory())
    .option('--account <acct_id>', 'the platform account the key belongs to (default: a new acct_ id)')
    .option('--user <usr_id>', 'bind the key to one Dashboard user (account scope or that user only)')
    .addHelpText('after', '\nExample:\n  $ npx secret-store keys create --mode test --account acct_1Example\n')
    .action(async (options: StoreOptions & { mode: 'test' | 'live'; account?: string; user?: string }) => {
      if (options.account !== undefined && !ACCOUNT_ID_PATTERN.test(options.account)) {
        throw new CliError(`--account must look like acct_ followed by letters and digits, got '${options.account}'`);
      }
      if (options.user !== undefined && !USER_ID_PATTERN.test(options.user)) {
        throw new CliError(`--user must look like usr_ followed by letters and digits, got '${options.user}'`);
      }
      const created = generateApiKey({
        livemode: options.mode === 'live',
        platform: options.account,
        user: options.user,
        now: nowSeconds(),
      });
      await withKeyStore(options, (store) => store.insert(created.record));
      const r = created.record;
      cliIo().stdout.write(
        `Created ${options.mode} key ${r.id} for platform ${r.platform}${r.userId ? `, bound to user ${r.userId}` : ''}.\n` +
          'It is shown only this once and stored as a hash: copy it now.\n' +
          `${created.key}\n`,
      );
    });

  addStoreOptions(keys.command('list'))
    .description('List API keys (masked) with their mode, account and status')
    .option('--json', 'print JSON instead of a table')
    .addHelpText('after', '\nExample:\n  $ npx secret-store keys list\n')
    .action(async (options: StoreOptions & { json?: boolean }) => {
      const records = await withKeyStore(options, (store) => store.list());
      const rows = records.map((r) => ({
        id: r.id,
        mode: r.livemode ? 'live' : 'test',
        platform: r.platform,
        user: r.userId ?? '',
        key: r.display,
        created: new Date(r.created * 1000).toISOString(),
        status: r.revokedAt === null ? 'active' : `revoked ${new Date(r.revokedAt * 1000).toISOString()}`,
      }));
      if (options.json) {
        cliIo().stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      if (rows.length === 0) {
        cliIo().stdout.write("No API keys yet. Create one with 'secret-store keys create --mode test'.\n");
        return;
      }
      cliIo().stdout.write(formatTable(rows));
    });

  addStoreOptions(keys.command('revoke'))
    .description('Revoke an API key by id; it stops working on the next request')
    .argument('<id>', 'the key id (key_...) from keys list')
    .addHelpText('after', '\nExample:\n  $ npx secret-store keys revoke key_4f9sXq2Lm0Pz8Rt1Ab3C\n')
    .action(async (id: string, options: StoreOptions) => {
      const outcome = await withKeyStore(options, (store) => store.revoke(id, nowSeconds()));
      if (outcome === 'missing') throw new CliError(`no API key with id '${id}'`);
      cliIo().stdout.write(outcome === 'revoked' ? `Revoked ${id}.\n` : `${id} was already revoked.\n`);
    });
}
