/**
 * The database records which master key is active (`meta.active_key_id`). A key id is an HMAC of
 * the key, so it doubles as a key check value: starting against an existing database with a keyring
 * that lacks the active key fails at boot with a clear message, instead of failing reads later.
 */
import type { Keyring } from './keyring.js';

/** Where the active key's id is kept (the store's meta table). */
export interface ActiveKeyRecord {
  /** Sets `key` unless it is set; answers the value it holds now. */
  setIfAbsent(key: string, value: string): Promise<string>;
}

export const ACTIVE_KEY = 'active_key_id';

export class WrongMasterKeyError extends Error {
  constructor(activeId: string, available: readonly string[]) {
    super(
      `the master key does not match this database: it was sealed with key ${activeId}, and the keyring holds ${available.join(', ')}`,
    );
    this.name = 'WrongMasterKeyError';
  }
}

/** Records the keyring's first key as active in a new database; checks the keyring otherwise. */
export async function adoptActiveKey(meta: ActiveKeyRecord, keyring: Keyring, firstKeyId: string): Promise<string> {
  const active = await meta.setIfAbsent(ACTIVE_KEY, firstKeyId);
  if (!keyring.has(active)) throw new WrongMasterKeyError(active, keyring.ids);
  keyring.activate(active);
  return active;
}
