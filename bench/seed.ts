/**
 * Seeds secrets straight into the database (sealed with the server's master key, exactly as the
 * server would store them), in large transactions, with a progress bar: the HTTP API would take
 * minutes for a million.
 */

import type { Insertable } from 'kysely';
import { startProgress } from '../src/cli/progress.js';
import { payloadBinding } from '../src/crypto/bindings.js';
import { masterKeyFrom, PayloadCipher } from '../src/crypto/payload-cipher.js';
import { emulatedPlatformOf } from '../src/keys/api-keys.js';
import { createIdGenerator } from '../src/secrets/secret-id.js';
import type { StoreEngine } from '../src/store/engine.js';
import { nameKeyOf, scopeKeyOf } from '../src/store/row-keys.js';
import type { SecretsTable } from '../src/store/schema.js';

export const benchKey = (platform: number) => `sk_test_bench${platform}`;

/** Secret number i: 10 names per user scope, 1,000 users per platform. */
export function slot(i: number) {
  return { platform: Math.floor(i / 10_000), user: `usr_${Math.floor(i / 10) % 1000}`, name: `name_${i % 10}` };
}

export async function seed(
  engine: StoreEngine,
  masterKey: Buffer,
  from: number,
  to: number,
  label: string,
): Promise<void> {
  const cipher = new PayloadCipher(masterKeyFrom(masterKey));
  const newId = createIdGenerator();
  const now = Math.floor(Date.now() / 1000);
  const batch = 1000;
  const progress = startProgress(label, to - from);
  for (let start = from; start < to; start += batch) {
    const rows: Insertable<SecretsTable>[] = [];
    for (let i = start; i < Math.min(start + batch, to); i++) {
      const s = slot(i);
      const key = {
        platform: emulatedPlatformOf(benchKey(s.platform)),
        account: emulatedPlatformOf(benchKey(s.platform)),
        livemode: false,
        scopeType: 'user',
        scopeUser: s.user,
        name: s.name,
      };
      const columns = { ...key, livemode: 0 };
      rows.push({
        id: newId(),
        platform: key.platform,
        account: key.account,
        livemode: 0,
        scope_type: 'user',
        scope_user: s.user,
        name: s.name,
        scope_key: scopeKeyOf(columns),
        name_key: nameKeyOf(columns, s.name),
        ciphertext: cipher.seal(`payload-${i}-${'x'.repeat(40)}`, payloadBinding(key)),
        created: now,
        expires_at: null,
      });
    }
    await engine.writeTransaction((trx) => trx.insertInto('secrets').values(rows).execute());
    progress.update(Math.min(start + batch, to) - from);
  }
  progress.stop();
}
