/**
 * Isolation, as a property: over random sequences of create, find, list and delete with random keys
 * (emulator and registered, test and live, two platforms), connected accounts, scope types and
 * users, every answer equals what a model with one map per namespace predicts. So no request ever
 * reads, lists, replaces or deletes a secret outside its own namespace
 * (platform, account, mode, scope type, scope user, name).
 */
import fc from 'fast-check';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatedPlatformOf } from '../../src/keys/api-keys.js';
import { createKey, type InProcessHandle, removeDir, startInProcess } from '../support/in-process-server.js';
import { testEngine } from '../support/postgres.js';

// The namespace rules are the store's queries, the same on both engines: PostgreSQL, where each
// request costs several round trips, runs a third of the sequences by default.
const RUNS = Number(process.env.ISOLATION_RUNS ?? (testEngine() === 'postgres' ? 20 : 60));
const SEED = Number(process.env.ISOLATION_SEED ?? 4242);

interface Identity {
  readonly key: string;
  readonly platform: string;
  readonly live: boolean;
}

let server: InProcessHandle;
let identities: Identity[];
const clients = new Map<string, Stripe>();

beforeAll(async () => {
  server = await startInProcess();
  const registered: Array<[string, string[]]> = [
    ['acct_IsoA', ['--mode', 'test', '--account', 'acct_IsoA']],
    ['acct_IsoA', ['--mode', 'live', '--account', 'acct_IsoA']],
    ['acct_IsoB', ['--mode', 'live', '--account', 'acct_IsoB']],
  ];
  identities = [];
  for (const [platform, args] of registered) {
    const key = await createKey(server, args);
    identities.push({ key, platform, live: key.startsWith('sk_live_') });
  }
  for (const key of ['sk_test_iso1', 'rk_test_iso2'])
    identities.push({ key, platform: emulatedPlatformOf(key), live: false });
  for (const identity of identities) clients.set(identity.key, server.stripe(identity.key, { maxNetworkRetries: 0 }));
});
afterAll(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

const op = fc.record({
  kind: fc.constantFrom('create', 'create', 'find', 'list', 'delete'),
  who: fc.nat(4),
  account: fc.constantFrom(undefined, 'acct_Conn1', 'acct_Conn2'),
  scope: fc.constantFrom<Stripe.Apps.SecretCreateParams.Scope>(
    { type: 'account' },
    { type: 'user', user: 'usr_1' },
    { type: 'user', user: 'usr_2' },
  ),
  name: fc.constantFrom('a', 'b'),
  tag: fc.nat(1_000_000),
});

describe('namespace isolation', () => {
  it(`holds over ${RUNS} random sequences (seed ${SEED})`, async () => {
    let run = 0;
    let requests = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 10, maxLength: 40 }), async (ops) => {
        run++;
        const model = new Map<string, string>();
        const created: Array<{
          identity: Identity;
          account?: string;
          scope: Stripe.Apps.SecretCreateParams.Scope;
          name: string;
        }> = [];
        const namespace = (
          identity: Identity,
          account: string | undefined,
          scope: Stripe.Apps.SecretCreateParams.Scope,
        ) =>
          [
            identity.platform,
            identity.live ? 'live' : 'test',
            account ?? identity.platform,
            scope.type,
            scope.user ?? '',
          ].join('|');
        for (const o of ops) {
          const identity = identities[o.who] as Identity;
          const stripe = clients.get(identity.key) as Stripe;
          const options = o.account ? { stripeAccount: o.account } : undefined;
          const name = `r${run}-${o.name}`;
          const space = namespace(identity, o.account, o.scope);
          const slot = `${space}|${name}`;
          requests++;
          if (o.kind === 'create') {
            const payload = `p${o.tag}`;
            const secret = await stripe.apps.secrets.create(
              { name, payload, scope: o.scope, expand: ['payload'] },
              options,
            );
            expect(secret.livemode).toBe(identity.live);
            expect(secret.payload).toBe(payload);
            if (!model.has(slot)) created.push({ identity, account: o.account, scope: o.scope, name });
            model.set(slot, payload);
          } else if (o.kind === 'find') {
            const outcome = await stripe.apps.secrets.find({ name, scope: o.scope, expand: ['payload'] }, options).then(
              (s) => s.payload,
              (e: { statusCode?: number }) => (e.statusCode === 404 ? undefined : Promise.reject(e)),
            );
            expect(outcome).toBe(model.get(slot));
          } else if (o.kind === 'list') {
            const page = await stripe.apps.secrets.list(
              { scope: o.scope, limit: 100, expand: ['data.payload'] },
              options,
            );
            const seen = page.data
              .filter((s) => s.name.startsWith(`r${run}-`))
              .map((s) => `${s.name}=${s.payload}`)
              .sort();
            const expected = [...model.entries()]
              .filter(([k]) => k.startsWith(`${space}|`))
              .map(([k, v]) => `${k.slice(space.length + 1)}=${v}`)
              .sort();
            expect(seen).toEqual(expected);
          } else {
            const outcome = await stripe.apps.secrets.deleteWhere({ name, scope: o.scope }, options).then(
              () => true,
              (e: { statusCode?: number }) => (e.statusCode === 404 ? false : Promise.reject(e)),
            );
            expect(outcome).toBe(model.has(slot));
            model.delete(slot);
          }
        }
        // Leave every scope empty for the next sequence (the cap is 10 per scope).
        for (const c of created) {
          const slot = `${namespace(c.identity, c.account, c.scope)}|${c.name}`;
          if (!model.has(slot)) continue;
          await (clients.get(c.identity.key) as Stripe).apps.secrets.deleteWhere(
            { name: c.name, scope: c.scope },
            c.account ? { stripeAccount: c.account } : undefined,
          );
          model.delete(slot);
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    process.stdout.write(`\nisolation: ${RUNS} sequences, ${requests} checked requests, seed ${SEED}\n`);
  }, 300_000);
});
