/**
 * Sample usage of the published `secret-store/testing` declarations (resolved through the package's
 * own exports to dist/), compiled with test/types/tsconfig.json (see client.test.ts): every
 * `@ts-expect-error` must be an error, every other line must compile, without @types/node.
 */
import { type SecretFixture, startSecretStore, type TestSecretStore } from 'secret-store/testing';

const fixtures: SecretFixture[] = [
  { name: 'a', payload: 'p', scope: { type: 'account' } },
  { name: 'b', payload: 'p', scope: { type: 'user', user: 'usr_1' }, expires_at: 2_000_000_000, key: 'sk_test_1' },
  { name: 'c', payload: 'p', scope: { type: 'account' }, account: 'acct_1' },
];

export async function sample(): Promise<void> {
  const store: TestSecretStore = await startSecretStore({
    fixtures,
    startAt: new Date(),
    upstream: 'http://127.0.0.1:12112',
    log: { write: (line: string) => line.length },
  });
  const options: { host: string; port: number; protocol: 'http' } = store.stripeOptions;
  const url: string = store.url;
  const now: number = store.clock.now();
  const later: number = await store.clock.advance(60);
  await store.reset();
  await store.close();
  await startSecretStore({ fixtures: 'fixtures.json', startAt: 1_900_000_000 });
  await startSecretStore();
  // @ts-expect-error a user scope needs its user
  await startSecretStore({ fixtures: [{ name: 'x', payload: 'p', scope: { type: 'user' } }] });
  // @ts-expect-error no such option
  await startSecretStore({ port: 12111 });
  // @ts-expect-error advancing is asynchronous
  const wrong: number = store.clock.advance(1);
  void [options, url, now, later, wrong];
}
