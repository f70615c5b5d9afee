/**
 * Encryption at rest, end to end: a payload envelope moved to another row, or altered in place, in
 * the database file does not open. The API reports corruption (500 api_error, not retried),
 * never some other secret's payload.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { serverForFile } from '../support/in-process-server.js';

const server = serverForFile({ engine: 'sqlite' });

describe('tampering with the database file', () => {
  it('refuses a ciphertext copied to another name, and one altered in place', async () => {
    const stripe = server.stripe('sk_test_tamper', { maxNetworkRetries: 2 });
    const scope = { type: 'account' } as const;
    await stripe.apps.secrets.create({ name: 'victim', payload: 'victim-payload', scope });
    await stripe.apps.secrets.create({ name: 'attacker', payload: 'attacker-payload', scope });
    await stripe.apps.secrets.create({ name: 'altered', payload: 'altered-payload', scope });

    const db = new Database(join(server.dataDir, 'secret-store.db'));
    try {
      const sealed = db.prepare("select ciphertext from secrets where name = 'victim'").get() as { ciphertext: Buffer };
      db.prepare("update secrets set ciphertext = ? where name = 'attacker'").run(sealed.ciphertext);
      const other = db.prepare("select ciphertext from secrets where name = 'altered'").get() as { ciphertext: Buffer };
      const flipped = Buffer.from(other.ciphertext);
      flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 0xff;
      db.prepare("update secrets set ciphertext = ? where name = 'altered'").run(flipped);
    } finally {
      db.close();
    }

    for (const name of ['attacker', 'altered']) {
      const error = await stripe.apps.secrets.find({ name, scope, expand: ['payload'] }).catch((e: unknown) => e);
      expect(error).toMatchObject({ type: 'StripeAPIError', statusCode: 500, code: undefined, rawType: 'api_error' });
      expect((error as Error).message).toMatch(/failed its integrity check/);
      expect(JSON.stringify(error)).not.toContain('victim-payload');
      expect((error as { headers?: Record<string, string> }).headers?.['stripe-should-retry']).toBe('false');
    }
    // Without the payload the secret is still listed and found; the intact one still opens.
    expect((await stripe.apps.secrets.find({ name: 'attacker', scope })).name).toBe('attacker');
    const victim = await stripe.apps.secrets.find({ name: 'victim', scope, expand: ['payload'] });
    expect(victim.payload).toBe('victim-payload');
  });
});
