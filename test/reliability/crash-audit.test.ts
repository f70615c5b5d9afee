/**
 * The audit log under SIGKILL: the server killed at random moments while clients create secrets and
 * read payloads. Every secret that was committed has its create row (they commit together), every
 * payload read that was answered has its row (stored before the answer), and every acknowledged
 * write is there. The server is its own process here, since killing it is the subject.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { composeStores } from '../../src/app/compose.js';
import { openStore } from '../../src/app/open-store.js';
import { resolveServerConfig } from '../../src/config/server-config.js';
import { createSchema, type TestSchema, testEngine } from '../support/postgres.js';
import { removeDir, type ServerHandle, startServer, tempDir } from '../support/server-process.js';

const ROUNDS = 3;
const CLIENTS = 6;

describe('audit rows across SIGKILL', () => {
  const dataDir = tempDir();
  let schema: TestSchema | undefined;
  afterAll(async () => {
    removeDir(dataDir);
    await schema?.drop();
  });

  it(`commits every secret with its audit row and records every answered payload read`, async () => {
    if (testEngine() === 'postgres') schema = await createSchema('crashaudit');
    const env = { SECRET_STORE_MASTER_KEY: randomBytes(32).toString('base64') };
    const start = () => startServer({ dataDir, databaseUrl: schema?.url, env, engine: testEngine() });
    // The server dies after a random number of answers in each round, wherever its work then is.
    const killAfter = fc.sample(fc.integer({ min: 20, max: 120 }), { numRuns: ROUNDS, seed: 11 });
    const createdRequests = new Map<string, string>(); // request id -> name
    const readRequests: string[] = [];
    // Each secret in a user scope of its own: the cap of 10 per scope never gets in the way.
    const scopeOf = (user: string) => ({ type: 'user' as const, user });

    for (let round = 0; round < ROUNDS; round++) {
      const server: ServerHandle = await start();
      const stripe = server.stripe('sk_test_crash_audit', { maxNetworkRetries: 0 });
      let answers = 0;
      let killed = false;
      const answered = () => {
        if (++answers >= (killAfter[round] as number) && !killed) {
          killed = true;
          server.process.kill('SIGKILL');
        }
      };
      const client = async (c: number) => {
        for (let i = 0; !killed; i++) {
          try {
            if (i % 2 === 0 || createdRequests.size === 0) {
              const name = `r${round}c${c}i${i}`;
              const created = await stripe.apps.secrets.create({ name, payload: 'p', scope: scopeOf(`usr_${name}`) });
              createdRequests.set(created.lastResponse.requestId, created.name);
            } else {
              const names = [...createdRequests.values()];
              const name = names[(i * 7 + c) % names.length] as string;
              const found = await stripe.apps.secrets.find({
                name,
                scope: scopeOf(`usr_${name}`),
                expand: ['payload'],
              });
              expect(found.payload).toBe('p');
              readRequests.push(found.lastResponse.requestId);
            }
            answered();
          } catch (error) {
            if (killed) return;
            throw error;
          }
        }
      };
      await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
      await server.exited();
    }

    const config = resolveServerConfig({ dataDir, databaseUrl: schema?.url }, {});
    const engine = await openStore(config);
    try {
      const stores = composeStores(engine);
      const audit = await stores.audit.query({ limit: 100_000 });
      const recorded = new Set(audit.map((e) => e.requestId));
      const createdNames = new Set(
        audit.filter((e) => e.operation === 'apps.secret.create' && e.outcome === 'ok').map((e) => e.name),
      );
      const stored = await stores.secrets.scan('', 100_000);
      expect(stored.filter((s) => !createdNames.has(s.name)).map((s) => s.name)).toEqual([]);
      const storedNames = new Set(stored.map((s) => s.name));
      expect([...createdRequests.values()].filter((name) => !storedNames.has(name))).toEqual([]);
      expect([...createdRequests.keys()].filter((id) => !recorded.has(id))).toEqual([]);
      expect(readRequests.filter((id) => !recorded.has(id))).toEqual([]);
    } finally {
      await engine.close();
    }
  }, 120_000);
});
