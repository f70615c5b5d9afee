import type { Command } from 'commander';
import { CliError } from './cli-error.js';
import { cliIo } from './cli-io.js';
import { durationSeconds } from './durations.js';
import { addStoreOptions, type StoreOptions, withStore } from './store-options.js';
import { formatTable } from './table.js';

/** `1h`, `7d`, an ISO date, or unix seconds -> unix seconds. */
export function parseSince(text: string, now = Date.now()): number {
  const ago = durationSeconds(text);
  if (ago !== undefined) return Math.floor(now / 1000) - ago;
  if (/^\d+$/.test(text)) return Number(text);
  const parsed = Date.parse(text);
  if (Number.isNaN(parsed)) throw new CliError(`--since takes 1h, 7d, an ISO date or unix seconds; got '${text}'`);
  return Math.floor(parsed / 1000);
}

export function registerAudit(program: Command): void {
  addStoreOptions(program.command('audit'))
    .description('Show the audit log: every mutating call and payload read, newest first (never a payload)')
    .option('--since <when>', '1h, 7d, an ISO date or unix seconds')
    .option('--name <name>', 'only entries about this secret name')
    .option('--limit <n>', 'at most this many entries', '50')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  $ npx secret-store audit --since 24h --name api-key\n')
    .action(async (options: StoreOptions & { since?: string; name?: string; limit: string; json?: boolean }) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new CliError('--limit must be a positive integer');
      const since = options.since === undefined ? undefined : parseSince(options.since);
      const entries = await withStore(options, (stores) => stores.audit.query({ since, name: options.name, limit }));
      if (options.json) {
        cliIo().stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
        return;
      }
      if (entries.length === 0) {
        cliIo().stdout.write('No audit entries match.\n');
        return;
      }
      cliIo().stdout.write(
        formatTable(
          entries.map((e) => ({
            time: new Date(e.time * 1000).toISOString(),
            operation: e.operation,
            outcome: `${e.outcome} (${e.status})`,
            name: e.name ?? '(list)',
            scope: e.scopeType === 'user' ? `user:${e.scopeUser}` : 'account',
            account: e.account,
            mode: e.livemode ? 'live' : 'test',
            key: e.keyId ?? 'emulator',
            request: e.requestId,
          })),
        ),
      );
    });
}
