import type { ServerConfig } from '../config/server-config.js';
import type { KeyringSource } from '../crypto/keyring.js';

/** Where the master keys come from: SECRET_STORE_MASTER_KEY, or the key file (made on first start). */
export function keyringSource(config: ServerConfig, createIfMissing: boolean): KeyringSource {
  return config.masterKey
    ? { kind: 'value', text: config.masterKey }
    : { kind: 'file', path: config.masterKeyPath, createIfMissing: createIfMissing && !config.masterKeyFile };
}
