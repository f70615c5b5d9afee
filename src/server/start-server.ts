/** Runs a server: opens the database and keyring, composes the parts, listens, and shuts down cleanly. */
import type { Server } from 'node:http';
import { type Composition, composeServer } from '../app/compose.js';
import { readFixtureFile, resolveFixtures } from '../app/fixtures.js';
import { keyringSource } from '../app/keyring-source.js';
import { openKeyring, openStore } from '../app/open-store.js';
import { reasonOf, StartupError } from '../app/startup-error.js';
import { ConfigError, type ServerConfig, settingName } from '../config/server-config.js';
import type { Logger } from '../logging/logger.js';
import { createApiServer } from './api-listener.js';
import { type BackgroundJobs, startBackgroundJobs } from './background-jobs.js';
import { drain, listenOn } from './listeners.js';
import { createMetricsServer } from './metrics-listener.js';

export interface RunningServer {
  readonly url: string;
  /** The storage engine, for the startup line (never a password). */
  readonly storage: string;
  /** Where /metrics is served, when a metrics port was configured. */
  readonly metricsUrl: string | undefined;
  readonly server: Server;
  readonly composition: Composition;
  readonly jobs: BackgroundJobs;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Milliseconds since the epoch; tests inject a clock they move. Default: Date.now. */
  readonly clock?: () => number;
  /**
   * Fixture entries given in code (`startSecretStore`), loaded with those of `config.fixtures`;
   * `fixturesSource` names them in errors.
   */
  readonly fixtures?: readonly unknown[];
  readonly fixturesSource?: string;
}

export async function startServer(
  config: ServerConfig,
  logger: Logger,
  options: StartOptions = {},
): Promise<RunningServer> {
  const engine = await openStore(config, { exclusive: true, logger });
  if (engine.notice) logger.info(engine.notice);
  const opened: Server[] = [];
  const closers: Array<() => void> = [];
  try {
    const keyring = await openKeyring(config, engine, logger);
    const composition = composeServer(config, { engine, keyring, logger, clock: options.clock ?? Date.now });
    closers.push(() => composition.upstream?.close());
    await loadFixtures(config, options, composition);
    const server = createApiServer(config, composition.app.handle);
    const url = await listenOrExplain(server, config.port, config.host, 'api');
    opened.push(server);
    let metricsServer: Server | undefined;
    let metricsUrl: string | undefined;
    if (config.metricsPort !== undefined) {
      metricsServer = createMetricsServer(composition.metrics, composition.health, logger);
      metricsUrl = await listenOrExplain(metricsServer, config.metricsPort, config.metricsHost, 'metrics');
      opened.push(metricsServer);
    }
    const jobs = startBackgroundJobs({
      secrets: composition.secrets,
      guard: composition.guard,
      stores: composition.stores,
      metrics: composition.metrics,
      keyring,
      keyringSource: keyringSource(config, false),
      logger,
      sweepIntervalSeconds: config.sweepIntervalSeconds,
      keyPollSeconds: config.keyPollSeconds,
    });
    let closing: Promise<void> | undefined;
    return {
      url,
      metricsUrl,
      storage: engine.description,
      server,
      composition,
      jobs,
      close() {
        closing ??= (async () => {
          jobs.stop();
          await Promise.all([
            drain(server, config.shutdownGraceSeconds * 1000),
            metricsServer && drain(metricsServer, 0),
          ]);
          for (const close of closers) close();
          await engine.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    await Promise.all(opened.map((s) => drain(s, 0)));
    for (const close of closers) close();
    await engine.close();
    throw error;
  }
}

/** Stores the fixtures of the config's file and of `options` before the server answers anything. */
async function loadFixtures(config: ServerConfig, options: StartOptions, composition: Composition): Promise<void> {
  const fromFile =
    config.fixtures === undefined ? [] : [{ source: config.fixtures, entries: readFixtureFile(config.fixtures) }];
  const fromCode = options.fixtures
    ? [{ source: options.fixturesSource ?? 'fixtures', entries: options.fixtures }]
    : [];
  const given = [...fromFile, ...fromCode];
  if (given.length === 0) return;
  const { testTools, keys } = composition;
  if (!testTools) throw new ConfigError('fixtures belong to test keys, which only emulator mode accepts');
  const fixtures = [];
  for (const { source, entries } of given) fixtures.push(...(await resolveFixtures(entries, source, keys)));
  await testTools.loadFixtures(fixtures);
}

/** Listens, or says which address could not be had and which setting changes it. */
async function listenOrExplain(
  server: Server,
  port: number,
  host: string,
  listener: 'api' | 'metrics',
): Promise<string> {
  try {
    return await listenOn(server, port, host);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const setting =
      code === 'EADDRINUSE' || code === 'EACCES'
        ? `choose another port with ${settingName(listener === 'api' ? 'port' : 'metricsPort')}`
        : `choose another address with ${settingName(listener === 'api' ? 'host' : 'metricsHost')}`;
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    const what = listener === 'api' ? 'listen' : 'serve metrics';
    const privileged = code === 'EACCES' && port < 1024 ? ' (ports below 1024 need privileges)' : '';
    throw new StartupError(`cannot ${what} on ${address}: ${reasonOf(error)}${privileged}; ${setting}`, {
      cause: error,
    });
  }
}
