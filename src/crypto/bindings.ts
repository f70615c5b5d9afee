/**
 * What each sealed value is bound to (its additional authenticated data). Moving an envelope to a
 * place with another binding makes it fail to open.
 */
import type { SecretKey } from '../store/secret-store.js';
import { associatedData } from './payload-cipher.js';

/** A secret's payload is bound to the row's full identity. */
export const payloadBinding = (key: SecretKey): Buffer =>
  associatedData('secret', key.platform, key.account, key.livemode, key.scopeType, key.scopeUser, key.name);

/** A saved idempotent response is bound to its owner and key. */
export const idempotencyBinding = (owner: string, key: string): Buffer => associatedData('idempotency', owner, key);
