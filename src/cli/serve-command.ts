import type { Command } from 'commander';
import { resolveServerConfig, type ServerConfig, type ServerConfigInput } from '../config/server-config.js';
import type { LogFormat } from '../logging/logger.js';
import type { RunningServer } from '../server/start-server.js';
import { cliIo } from './cli-io.js';

const authModeText = (config: ServerConfig) =>
  config.emulator
    ? 'emulator mode: any well-formed sk_test_/rk_test_ key is accepted as its own platform; live keys must be registered'
    : "registered-keys mode: every key must be created with 'secret-store keys create'";

interface ServeOptions {
  rateLimit?: boolean;
  rateLimitTest?: string;
  rateLimitLive?: string;
  dashboard?: boolean;
  logFormat?: LogFormat;
  metricsPort?: string;
  metricsHost?: string;
  host?: string;
  port?: string;
  dataDir?: string;
  emulator?: boolean;
  allowHost?: string[];
  masterKeyFile?: string;
  databaseUrl?: string;
  migrate?: boolean;
  dbPoolSize?: string;
  dbStatementTimeoutMs?: string;
  dbQueryTimeoutMs?: string;
  dbConnectTimeoutMs?: string;
  dbPreparedStatements?: boolean | string;
  memory?: boolean;
  fixtures?: string;
  upstream?: string;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Start the Secret Store API server')
    .option('--host <host>', 'address to listen on (default 127.0.0.1, env SECRET_STORE_HOST)')
    .option('--port <port>', 'port to listen on (default 12111, env SECRET_STORE_PORT)')
    .option('--data-dir <dir>', 'where the SQLite database and key file live (default ./data)')
    .option('--emulator', 'accept any sk_test_ key (loopback only; the default on loopback)')
    .option('--no-emulator', 'accept registered keys only')
    .option(
      '--allow-host <name>',
      'in emulator mode, also answer requests for this host name (repeatable; env SECRET_STORE_ALLOW_HOST, comma-separated)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--master-key-file <file>', 'file holding the base64 master key (env SECRET_STORE_MASTER_KEY_FILE)')
    .option('--database-url <url>', 'postgres://... to use PostgreSQL instead of SQLite (env DATABASE_URL)')
    .option('--memory', 'keep everything in memory (SQLite, a throwaway master key); nothing is written to disk')
    .option('--fixtures <file>', 'load the secrets of this JSON file at start (emulator mode; see README)')
    .option('--upstream <url>', 'forward every request this server does not answer itself to this URL')
    .option('--no-migrate', 'do not run migrations at start; refuse to start if the schema is behind')
    .option('--db-pool-size <n>', 'PostgreSQL connections per instance (default 10)')
    .option('--db-statement-timeout-ms <ms>', 'PostgreSQL cancels a statement running longer (default 5000)')
    .option(
      '--db-query-timeout-ms <ms>',
      'give up on a statement PostgreSQL leaves unanswered this long (default 6000)',
    )
    .option('--db-connect-timeout-ms <ms>', 'wait this long at most for a PostgreSQL connection (default 3000)')
    .option(
      '--db-prepared-statements <mode>',
      'PostgreSQL named prepared statements: auto (off through a pooler), on or off (default auto)',
    )
    .option('--no-db-prepared-statements', 'the same as --db-prepared-statements off')
    .option('--log-format <format>', 'json or pretty (default: pretty on a terminal, json otherwise)')
    .option('--metrics-port <port>', 'serve /metrics, /healthz and /readyz on this port (default: off)')
    .option('--metrics-host <host>', 'address of the metrics listener (default 127.0.0.1)')
    .option('--no-dashboard', 'do not serve the web dashboard at /dashboard')
    .option('--rate-limit', 'limit each account like Stripe does (25 req/s test, 100 live); off by default')
    .option('--rate-limit-test <n>', 'requests per second per account in test mode, with --rate-limit')
    .option('--rate-limit-live <n>', 'requests per second per account in live mode, with --rate-limit')
    .addHelpText(
      'after',
      '\nExamples:\n  $ npx secret-store serve --port 12111 --data-dir ./data\n  $ npx secret-store serve --memory --fixtures fixtures.json --upstream http://127.0.0.1:12112\n',
    )
    .action(async (options: ServeOptions) => {
      // commander sets `migrate: true` unless --no-migrate was given; pass on only an explicit "no".
      const config = resolveServerConfig(
        {
          ...options,
          migrate: options.migrate === false ? false : undefined,
          dashboard: options.dashboard === false ? false : undefined,
          // Checked with the rest of the configuration: a word other than auto, on or off is refused there.
          dbPreparedStatements: options.dbPreparedStatements as ServerConfigInput['dbPreparedStatements'],
        },
        cliIo().env,
      );
      const [{ createLogger }, { startServer }] = await Promise.all([
        import('../logging/logger.js'),
        import('../server/start-server.js'),
      ]);
      const { stdout } = cliIo();
      const logger = createLogger(config.logFormat, stdout === process.stdout ? undefined : stdout);
      // Handlers go in before anything is announced: a signal sent as soon as the startup line
      // appears must shut down cleanly, not hit Node's default action.
      let running: RunningServer | undefined;
      let stopping = false;
      const exit = (code: number) => {
        logger.flush();
        process.exit(code);
      };
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) exit(1);
        stopping = true;
        logger.info(`received ${signal}, shutting down`);
        (running?.close() ?? Promise.resolve()).then(
          () => exit(0),
          () => exit(1),
        );
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      try {
        running = await startServer(config, logger);
      } catch (error) {
        // Nothing to shut down: the error ends the command (in-process runs go on without these).
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        throw error;
      }
      if (stopping) {
        await running.close();
        return;
      }
      const metrics = running.metricsUrl ? `; metrics on ${running.metricsUrl}/metrics` : '';
      const dashboard = config.dashboard ? `; dashboard at ${running.url}/dashboard` : '';
      const upstream = config.upstream ? `; everything else forwarded to ${config.upstream}` : '';
      logger.info(
        `secret-store listening on ${running.url} (${authModeText(config)}; ${running.storage}${metrics}${dashboard}${upstream})`,
      );
    });
}
