/**
 * Crash safety: concurrent writers, the server killed with SIGKILL at random moments, restarted on
 * the same data. Every write that was acknowledged (a 200 reached the client) must be there with its
 * exact payload; nothing may be half-written (every stored secret must open). Runs on the engine of
 * the vitest project.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createSchema, type TestSchema, testEngine } from '../support/postgres.js';
import { removeDir, type ServerHandle, startServer, tempDir } from '../support/server-process.js';

const ROUNDS = 4;
const WRITERS = 8;

describe('crash safety', () => {
  const dataDir = tempDir();
  let schema: TestSchema | undefined;
  afterAll(async () => {
    removeDir(dataDir);
    await schema?.drop();
  });

  it(`keeps every acknowledged write across ${ROUNDS} SIGKILLs at random points`, async () => {
    if (testEngine() === 'postgres') schema = await createSchema('crash');
    const env = { SECRET_STORE_MASTER_KEY: randomBytes(32).toString('base64') };
    const start = () => startServer({ dataDir, databaseUrl: schema?.url, env, engine: testEngine() });
    // The server dies after a random number of acknowledged writes in each round, wherever the
    // writes in flight then are: a point in the work, not in time, so load changes nothing.
    const killAfter = fc.sample(fc.integer({ min: 10, max: 60 }), { numRuns: ROUNDS, seed: 7 });
    /** name@scope -> the payload last acknowledged for it */
    const acknowledged = new Map<string, string>();
    /** payloads sent but not acknowledged: they may or may not be stored */
    const maybe = new Map<string, Set<string>>();
    let writes = 0;

    for (let round = 0; round < ROUNDS; round++) {
      const server: ServerHandle = await start();
      const stripe = server.stripe('sk_test_crash', { maxNetworkRetries: 0 });
      let acknowledgedThisRound = 0;
      let killed = false;
      const writer = async (w: number) => {
        for (let i = 0; !killed; i++) {
          const user = `usr_w${w}`;
          const name = `s${i % 10}`;
          const key = `${user}/${name}`;
          const payload = `r${round}-w${w}-i${i}-${'x'.repeat(i % 50)}`;
          const pending = maybe.get(key) ?? new Set<string>();
          pending.add(payload);
          maybe.set(key, pending);
          try {
            await stripe.apps.secrets.create({ name, payload, scope: { type: 'user', user } });
          } catch (error) {
            if (killed) return; // the server died under us
            throw error;
          }
          acknowledged.set(key, payload);
          pending.clear();
          writes++;
          if (++acknowledgedThisRound >= (killAfter[round] as number) && !killed) {
            killed = true;
            server.process.kill('SIGKILL');
          }
        }
      };
      await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
      await server.exited();
    }

    const server = await start();
    try {
      const stripe = server.stripe('sk_test_crash');
      let checked = 0;
      for (let w = 0; w < WRITERS; w++) {
        const scope = { type: 'user' as const, user: `usr_w${w}` };
        const listed = await stripe.apps.secrets.list({ scope, limit: 100, expand: ['data.payload'] });
        const stored = new Map(listed.data.map((s) => [s.name, s.payload]));
        for (const [key, payload] of acknowledged) {
          const [user, name] = key.split('/') as [string, string];
          if (user !== scope.user) continue;
          const found = stored.get(name);
          // The acknowledged payload, or a later one that was sent but whose answer was lost.
          const allowed = new Set([payload, ...(maybe.get(key) ?? [])]);
          expect(allowed.has(found as string), `${key}: stored ${found}, acknowledged ${payload}`).toBe(true);
          checked++;
        }
        // Everything stored opens (no torn or half-written envelope) and was really sent.
        for (const secret of listed.data) {
          const key = `${scope.user}/${secret.name}`;
          const sent = new Set([acknowledged.get(key), ...(maybe.get(key) ?? [])]);
          expect(sent.has(secret.payload as string)).toBe(true);
        }
      }
      expect(checked).toBe(acknowledged.size);
      process.stdout.write(
        `\ncrash-safety (${testEngine()}): ${ROUNDS} SIGKILLs, ${writes} acknowledged writes, ${checked} latest values verified\n`,
      );
    } finally {
      await server.stop();
    }
  }, 120_000);
});
