/**
 * The real stores, cipher and services over SQLite `:memory:`, with a clock the test moves: the
 * ground for unit tests of the service, the idempotency guard and the request stages. Nothing is
 * mocked; each test gets a database of its own.
 */
import { randomBytes } from 'node:crypto';
import { composeStores, composeUnitOfWork, type Stores } from '../../src/app/compose.js';
import { Keyring } from '../../src/crypto/keyring.js';
import { masterKeyFrom, PayloadCipher } from '../../src/crypto/payload-cipher.js';
import { IdempotencyGuard } from '../../src/http/idempotency-guard.js';
import type { WriteStores } from '../../src/http/stages/execute.js';
import { createIdGenerator } from '../../src/secrets/secret-id.js';
import { SecretsService } from '../../src/secrets/secrets-service.js';
import { migrateToLatest } from '../../src/store/migrations.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import type { UnitOfWork } from '../../src/store/unit-of-work.js';
import { createTestClock, type TestClock } from './test-clock.js';

export interface MemoryStore {
  readonly stores: Stores;
  readonly cipher: PayloadCipher;
  readonly clock: TestClock;
  readonly secrets: SecretsService;
  readonly guard: IdempotencyGuard;
  readonly unitOfWork: UnitOfWork<WriteStores>;
  close(): Promise<void>;
}

export async function openMemoryStore(): Promise<MemoryStore> {
  const engine = await openSqlite({ file: ':memory:' });
  await migrateToLatest(engine);
  const stores = composeStores(engine);
  const clock = createTestClock();
  const cipher = new PayloadCipher(new Keyring([masterKeyFrom(randomBytes(32))]));
  return {
    stores,
    cipher,
    clock,
    secrets: new SecretsService({
      store: stores.secrets,
      cipher,
      clock: clock.nowMs,
      newId: createIdGenerator(clock.nowMs),
    }),
    guard: new IdempotencyGuard(cipher, clock.nowMs),
    unitOfWork: composeUnitOfWork(stores),
    close: () => engine.close(),
  };
}
