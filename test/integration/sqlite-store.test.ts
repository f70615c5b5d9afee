import { join } from 'node:path';
import { afterAll } from 'vitest';
import { migrateToLatest } from '../../src/store/migrations.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { removeDir, tempDir } from '../support/server-process.js';
import { describeStoreContract } from './store-contract.js';

const dir = tempDir('secret-store-sqlite-');
afterAll(() => removeDir(dir));

describeStoreContract('SQLite (a real database file)', async (name, options) => {
  const engine = await openSqlite({ file: join(dir, `${name}.db`) });
  if (options?.migrate !== false) await migrateToLatest(engine);
  return engine;
});
