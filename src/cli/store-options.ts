/** The options every command that opens the database shares: where the data lives. */
import { type Command, Option } from 'commander';
import type { Stores } from '../app/compose.js';
import { resolveServerConfig, type ServerConfig } from '../config/server-config.js';
import { cliIo } from './cli-io.js';

export interface StoreOptions {
  dataDir?: string;
  databaseUrl?: string;
  masterKeyFile?: string;
}

export function addStoreOptions(command: Command): Command {
  return command
    .addOption(new Option('--data-dir <dir>', 'the server data directory (default ./data)'))
    .addOption(new Option('--database-url <url>', 'postgres://... when the server uses PostgreSQL (env DATABASE_URL)'));
}

export const storeConfig = (options: StoreOptions): ServerConfig =>
  resolveServerConfig(
    { dataDir: options.dataDir, databaseUrl: options.databaseUrl, masterKeyFile: options.masterKeyFile },
    cliIo().env,
  );

/** Opens (and migrates) the configured database for the length of `fn`. */
export async function withStore<T>(
  options: StoreOptions,
  fn: (stores: Stores, config: ServerConfig) => Promise<T>,
): Promise<T> {
  const config = storeConfig(options);
  // Loaded on use: commands that never touch the database start faster without the drivers.
  const [{ openStore }, { composeStores }] = await Promise.all([
    import('../app/open-store.js'),
    import('../app/compose.js'),
  ]);
  const engine = await openStore(config);
  try {
    return await fn(composeStores(engine), config);
  } finally {
    await engine.close();
  }
}
