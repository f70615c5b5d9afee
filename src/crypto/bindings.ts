/**
 * What each sealed value is bound to (its additional authenticated data). Moving an envelope to a
 * place with another binding makes it fail to open.
 */
import { associatedData } from './payload-cipher.js';

/** Where a secret lives: its owner, mode, scope and name (the store's secret key has this shape). */
export interface SecretPlace {
  readonly platform: string;
  readonly account: string;
  readonly livemode: boolean;
  readonly scopeType: string;
  readonly scopeUser: string;
  readonly name: string;
}

/** A secret's payload is bound to the row's full identity. */
export const payloadBinding = (key: SecretPlace): Buffer =>
  associatedData('secret', key.platform, key.account, key.livemode, key.scopeType, key.scopeUser, key.name);

/** A saved idempotent response is bound to its owner and key. */
export const idempotencyBinding = (owner: string, key: string): Buffer => associatedData('idempotency', owner, key);
