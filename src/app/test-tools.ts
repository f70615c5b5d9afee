/**
 * The test tools of emulator mode (README, "Testing your app"): each platform's clock, and the reset
 * that puts a platform (or the whole store) back as it started, with its fixtures and nothing else.
 */

import { recordOwnerPrefix } from '../http/idempotency-guard.js';
import type { TestTools as HttpTestTools, ResetSummary } from '../http/test-tool-endpoint.js';
import type { PlatformClocks } from '../secrets/platform-clocks.js';
import type { SecretsService } from '../secrets/secrets-service.js';
import type { StoreEngine } from '../store/engine.js';
import type { SqlSecretStore } from '../store/sql-secret-store.js';
import { forgetTestData } from '../store/test-data.js';
import { type Fixture, storeFixtures } from './fixtures.js';

export interface TestToolsDeps {
  readonly engine: StoreEngine;
  readonly secretStore: SqlSecretStore;
  readonly secrets: SecretsService;
  readonly clocks: PlatformClocks;
}

export class TestTools implements HttpTestTools {
  private fixtures: readonly Fixture[] = [];

  constructor(private readonly deps: TestToolsDeps) {}

  get clocks(): PlatformClocks {
    return this.deps.clocks;
  }

  /** Stores `fixtures` now, and again at every reset; a bad entry fails with its label. */
  async loadFixtures(fixtures: readonly Fixture[]): Promise<number> {
    this.fixtures = fixtures;
    return storeFixtures(this.deps.secrets, fixtures, { skipExpired: false, now: this.nowOf });
  }

  /**
   * Forgets the test data of `platform` (without one: everything, of every platform and mode) and
   * stores its fixtures again, in one write transaction. Its clock stays where it is: it only moves
   * forward, so fixtures that have expired on it meanwhile stay out.
   */
  reset(platform?: string): Promise<ResetSummary> {
    const { engine, secretStore, secrets } = this.deps;
    const fixtures =
      platform === undefined ? this.fixtures : this.fixtures.filter((f) => f.owner.platform === platform);
    return engine.writeTransaction(async (trx) => {
      const owner =
        platform === undefined
          ? undefined
          : { platform, idempotencyOwnerPrefix: recordOwnerPrefix({ platform, livemode: false }) };
      const deleted = await forgetTestData(trx, owner);
      const inTransaction = secrets.using(secretStore.within(trx));
      const fixturesLoaded = await storeFixtures(inTransaction, fixtures, { skipExpired: true, now: this.nowOf });
      return { deleted, fixturesLoaded };
    });
  }

  private readonly nowOf = (owner: Fixture['owner']): number => Math.floor(this.deps.clocks.at(owner) / 1000);
}
