/**
 * The SQLite key store keeps its lookups (a find per request would otherwise look the key up each
 * time) only while nobody else changed the database: a key registered or revoked through another
 * connection (the CLI, another process) is seen by the very next lookup, and so is a change made by
 * the store itself. Two connections on one real database file stand for the server and the CLI.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateApiKey, hashApiKey } from '../../src/keys/api-keys.js';
import { SqlApiKeyStore } from '../../src/store/api-key-store.js';
import type { StoreEngine } from '../../src/store/engine.js';
import { migrateToLatest } from '../../src/store/migrations.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { removeDir, tempDir } from '../support/server-process.js';

const dir = tempDir('secret-store-key-cache-');
afterAll(() => removeDir(dir));

let server: StoreEngine;
let cli: StoreEngine;
let n = 0;
beforeEach(async () => {
  const file = join(dir, `keys-${n++}.db`);
  server = await openSqlite({ file });
  await migrateToLatest(server);
  cli = await openSqlite({ file });
});
afterEach(async () => {
  await cli.close();
  await server.close();
});

/**
 * A request made after a change arrives in a later turn of the event loop (it is read from a
 * socket); the store reads the database’s change counter once per turn.
 */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

const newKey = () => generateApiKey({ livemode: false, platform: 'acct_Cache1', now: 1_800_000_000 });

describe('the SQLite key lookups kept between requests', () => {
  it('see a key revoked by another connection on the next lookup', async () => {
    const keys = new SqlApiKeyStore(server);
    const { key, record } = newKey();
    await new SqlApiKeyStore(cli).insert(record);
    expect((await keys.findByHash(hashApiKey(key)))?.revokedAt).toBeNull();
    expect((await keys.findByHash(hashApiKey(key)))?.revokedAt).toBeNull();

    expect(await new SqlApiKeyStore(cli).revoke(record.id, 1_800_000_100)).toBe('revoked');
    await nextTurn();
    expect((await keys.findByHash(hashApiKey(key)))?.revokedAt).toBe(1_800_000_100);
  });

  it('see a key registered by another connection after it was looked up and not found', async () => {
    const keys = new SqlApiKeyStore(server);
    const { key, record } = newKey();
    expect(await keys.findByHash(hashApiKey(key))).toBeUndefined();
    expect(await keys.findByHash(hashApiKey(key))).toBeUndefined();

    await new SqlApiKeyStore(cli).insert(record);
    await nextTurn();
    expect((await keys.findByHash(hashApiKey(key)))?.id).toBe(record.id);
  });

  it('see the store’s own changes at once', async () => {
    const keys = new SqlApiKeyStore(server);
    const { key, record } = newKey();
    expect(await keys.findByHash(hashApiKey(key))).toBeUndefined();
    await keys.insert(record);
    expect((await keys.findByHash(hashApiKey(key)))?.revokedAt).toBeNull();
    await keys.revoke(record.id, 1_800_000_200);
    expect((await keys.findByHash(hashApiKey(key)))?.revokedAt).toBe(1_800_000_200);
  });

  it('keep no lookup made while a change of its own was under way', async () => {
    const keys = new SqlApiKeyStore(server);
    const { key, record } = newKey();
    await keys.insert(record);
    const revoking = keys.revoke(record.id, 1_800_000_300);
    const during = keys.findByHash(hashApiKey(key));
    await Promise.all([revoking, during]);
    expect((await keys.findByHash(hashApiKey(key)))?.revokedAt).toBe(1_800_000_300);
  });
});
