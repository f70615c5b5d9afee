/**
 * `secret-store secrets ...`: the `stripe apps secrets` command Stripe documents but never shipped.
 * It talks HTTP to a server through the typed client, so it obeys the same auth and scope rules as
 * any app. Payloads are printed only when asked (--reveal).
 */
import { type Command, Option } from 'commander';
import { DEFAULT_BASE_URL, type Scope, type Secret, SecretStoreClient, SecretStoreError } from '../client/index.js';
import { CliError } from './cli-error.js';
import { cliIo } from './cli-io.js';
import { parseDuration } from './durations.js';
import { formatTable, terminalText } from './table.js';

interface ConnectionOptions {
  url?: string;
  apiKey?: string;
  account?: string;
  json?: boolean;
}

interface ScopeOptions extends ConnectionOptions {
  scope: string;
}

export function parseScope(text: string): Scope {
  if (text === 'account') return { type: 'account' };
  const match = /^user:(.+)$/.exec(text);
  if (match?.[1]) return { type: 'user', user: match[1] };
  throw new CliError(`--scope must be 'account' or 'user:<user id>' (for example user:usr_123), got '${text}'`);
}

function clientFrom(options: ConnectionOptions): SecretStoreClient {
  const apiKey = options.apiKey ?? cliIo().env.STRIPE_API_KEY;
  if (!apiKey) throw new CliError('no API key: pass --api-key or set STRIPE_API_KEY');
  return new SecretStoreClient({
    apiKey,
    baseUrl: options.url ?? cliIo().env.SECRET_STORE_URL ?? DEFAULT_BASE_URL,
    stripeAccount: options.account,
  });
}

/** The server's own message, with its code and request id, as the command's failure. */
async function calling<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof SecretStoreError) {
      const where = [error.code, error.requestId && `request ${error.requestId}`].filter(Boolean).join(', ');
      throw new CliError(`${error.message}${where ? ` (${where})` : ''}`);
    }
    throw error;
  }
}

const iso = (seconds: number | null) => (seconds === null ? '' : new Date(seconds * 1000).toISOString());

function timeLeft(expiresAt: number | null): string {
  if (expiresAt === null) return 'never';
  const left = expiresAt - Math.floor(Date.now() / 1000);
  if (left <= 0) return 'expired';
  const [unit, size] = left >= 86_400 ? ['d', 86_400] : left >= 3600 ? ['h', 3600] : left >= 60 ? ['m', 60] : ['s', 1];
  return `${iso(expiresAt)} (in ${Math.floor(left / (size as number))}${unit})`;
}

const scopeText = (scope: Scope) => (scope.type === 'user' ? `user:${scope.user}` : 'account');

/** A table for people; --json prints the API objects instead (see the callers). */
function printTable(secrets: Secret[], options: { reveal?: boolean }): void {
  if (secrets.length === 0) {
    cliIo().stdout.write('No secrets in this scope.\n');
    return;
  }
  const rows = secrets.map((s) => ({
    name: s.name,
    scope: scopeText(s.scope),
    created: iso(s.created),
    expires: timeLeft(s.expires_at),
    id: s.id,
    ...(options.reveal ? { payload: s.payload ?? '' } : {}),
  }));
  cliIo().stdout.write(formatTable(rows));
}

const printOne = (secret: Secret, options: ConnectionOptions & { reveal?: boolean }) => {
  if (options.json) cliIo().stdout.write(`${JSON.stringify(secret, null, 2)}\n`);
  else printTable([secret], options);
};

function withConnection(command: Command): Command {
  return command
    .option('--url <url>', `the server (env SECRET_STORE_URL, default ${DEFAULT_BASE_URL})`)
    .option('--api-key <key>', 'the API key (env STRIPE_API_KEY)')
    .option('--account <acct_id>', 'act on this connected account (Stripe-Account)')
    .option('--json', 'print the API objects as JSON');
}

const scopeOption = () => new Option('--scope <scope>', "'account' or 'user:<user id>'").makeOptionMandatory();

function readStdin(): string {
  const text = cliIo().readStdin();
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

export function registerSecrets(program: Command): void {
  const secrets = program
    .command('secrets')
    .description('Set, find, list and delete secrets on a running server (the Secret Store API over HTTP)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ export STRIPE_API_KEY=sk_test_123\n  $ printf %s "$TOKEN" | npx secret-store secrets set oauth-token --scope user:usr_123 --payload-stdin --expires-in 7d\n  $ npx secret-store secrets list --scope user:usr_123\n  $ npx secret-store secrets find oauth-token --scope user:usr_123 --reveal\n  $ npx secret-store secrets delete oauth-token --scope user:usr_123\n',
    );

  withConnection(secrets.command('set'))
    .description('Create a secret, or replace the one with the same name in the scope')
    .argument('<name>', 'the secret name')
    .addOption(scopeOption())
    .option('--payload <value>', 'the secret value (visible in shell history: prefer --payload-stdin)')
    .option('--payload-stdin', 'read the secret value from standard input')
    .option('--expires-at <unix>', 'expiry as unix seconds')
    .option('--expires-in <duration>', 'expiry from now: 90s, 15m, 12h, 7d, 2w')
    .addHelpText(
      'after',
      '\nExamples:\n  $ printf %s "$TOKEN" | npx secret-store secrets set oauth-token --scope user:usr_123 --payload-stdin --expires-in 7d\n  $ npx secret-store secrets set api-key --scope account --payload s3cr3t --api-key sk_test_123\n',
    )
    .action(
      async (
        name: string,
        options: ScopeOptions & { payload?: string; payloadStdin?: boolean; expiresAt?: string; expiresIn?: string },
      ) => {
        if ((options.payload === undefined) === !options.payloadStdin) {
          throw new CliError('give the value with exactly one of --payload or --payload-stdin');
        }
        if (options.expiresAt !== undefined && options.expiresIn !== undefined) {
          throw new CliError('give at most one of --expires-at and --expires-in');
        }
        let expiresAt: number | undefined;
        if (options.expiresAt !== undefined) {
          if (!/^\d+$/.test(options.expiresAt)) throw new CliError('--expires-at takes unix seconds');
          expiresAt = Number(options.expiresAt);
        }
        if (options.expiresIn !== undefined)
          expiresAt = Math.floor(Date.now() / 1000) + parseDuration(options.expiresIn, '--expires-in');
        const payload = options.payloadStdin ? readStdin() : (options.payload as string);
        const scope = parseScope(options.scope);
        const client = clientFrom(options);
        const secret = await calling(() => client.secrets.create({ name, payload, scope, expiresAt }));
        printOne(secret, options);
      },
    );

  withConnection(secrets.command('find'))
    .description('Show one secret; its value only with --reveal')
    .argument('<name>', 'the secret name')
    .addOption(scopeOption())
    .option('--reveal', 'include the payload')
    .addHelpText('after', '\nExample:\n  $ npx secret-store secrets find api-key --scope account --reveal\n')
    .action(async (name: string, options: ScopeOptions & { reveal?: boolean }) => {
      const client = clientFrom(options);
      const scope = parseScope(options.scope);
      const secret = await calling(() =>
        client.secrets.find({ name, scope, expand: options.reveal ? ['payload'] : undefined }),
      );
      printOne(secret, options);
    });

  withConnection(secrets.command('list'))
    .description("List a scope's secrets, newest first, following every page")
    .addOption(scopeOption())
    .option('--limit <n>', 'show at most this many')
    .option('--reveal', 'include the payloads')
    .addHelpText('after', '\nExample:\n  $ npx secret-store secrets list --scope user:usr_123 --json\n')
    .action(async (options: ScopeOptions & { limit?: string; reveal?: boolean }) => {
      const limit = options.limit === undefined ? Number.POSITIVE_INFINITY : Number(options.limit);
      if (!(limit >= 1) || (Number.isFinite(limit) && !Number.isInteger(limit))) {
        throw new CliError('--limit must be a positive integer');
      }
      const client = clientFrom(options);
      const scope = parseScope(options.scope);
      const found: Secret[] = [];
      await calling(async () => {
        const pageSize = Math.min(100, Number.isFinite(limit) ? limit : 100);
        const expand = options.reveal ? (['data.payload'] as const) : undefined;
        for await (const secret of client.secrets.listAll({ scope, limit: pageSize, expand: expand && [...expand] })) {
          found.push(secret);
          if (found.length >= limit) break;
        }
      });
      if (options.json) cliIo().stdout.write(`${JSON.stringify(found, null, 2)}\n`);
      else printTable(found, options);
    });

  withConnection(secrets.command('delete'))
    .description('Delete a secret')
    .argument('<name>', 'the secret name')
    .addOption(scopeOption())
    .addHelpText('after', '\nExample:\n  $ npx secret-store secrets delete api-key --scope account\n')
    .action(async (name: string, options: ScopeOptions) => {
      const client = clientFrom(options);
      const scope = parseScope(options.scope);
      const deleted = await calling(() => client.secrets.deleteWhere({ name, scope }));
      if (options.json) cliIo().stdout.write(`${JSON.stringify(deleted, null, 2)}\n`);
      else
        cliIo().stdout.write(
          `${terminalText(`Deleted ${deleted.name} (${scopeText(deleted.scope)}, ${deleted.id}).`)}\n`,
        );
    });
}
