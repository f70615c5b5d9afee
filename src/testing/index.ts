/**
 * `secret-store/testing`: the Secret Store for a test suite, in process and in memory (README,
 * "Testing your app").
 */
export type { SecretFixture } from '../app/secret-fixture.js';
export {
  type LogSink,
  type SecretStoreOptions,
  type StoreClock,
  type StripeOptions,
  startSecretStore,
  type TestSecretStore,
} from './start-secret-store.js';
