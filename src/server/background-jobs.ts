/**
 * What a server does besides answering: the expiry sweep (with the idempotency records' pruning)
 * and following a key rotation made by `secret-store rotate-key`, possibly on another instance.
 */
import type { Stores } from '../app/compose.js';
import { ACTIVE_KEY } from '../crypto/active-key.js';
import { type Keyring, type KeyringSource, loadKeys } from '../crypto/keyring.js';
import type { IdempotencyGuard } from '../http/idempotency-guard.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { SecretsService } from '../secrets/secrets-service.js';
import type { MetaStore } from '../store/meta-store.js';

export interface BackgroundJobs {
  /** Runs one sweep now (tests call it after moving the clock). */
  sweep(): Promise<void>;
  stop(): void;
}

export interface JobDeps {
  readonly secrets: SecretsService;
  readonly guard: IdempotencyGuard;
  readonly stores: Stores;
  readonly metrics: Metrics;
  readonly keyring: Keyring;
  readonly keyringSource: KeyringSource;
  readonly logger: Logger;
  readonly sweepIntervalSeconds: number;
  readonly keyPollSeconds: number;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export function startBackgroundJobs(deps: JobDeps): BackgroundJobs {
  const { logger } = deps;
  const sweep = async () => {
    try {
      const removed = await deps.secrets.sweepExpired();
      await deps.guard.prune(deps.stores.idempotency);
      deps.metrics.observeSweep(removed);
      if (removed > 0) logger.info(`expiry sweep removed ${removed} expired secret(s)`);
    } catch (error) {
      logger.error('expiry sweep failed', { error: message(error) });
    }
  };
  const sweepTimer = setInterval(sweep, deps.sweepIntervalSeconds * 1000);
  sweepTimer.unref();
  void sweep();
  const keyTimer = setInterval(
    () => void followActiveKey(deps.stores.meta, deps.keyring, deps.keyringSource, logger),
    deps.keyPollSeconds * 1000,
  );
  keyTimer.unref();
  return {
    sweep,
    stop() {
      clearInterval(sweepTimer);
      clearInterval(keyTimer);
    },
  };
}

/** When the database names another active key, re-read the key source for it and seal with it. */
async function followActiveKey(meta: MetaStore, keyring: Keyring, source: KeyringSource, logger: Logger) {
  try {
    const id = await meta.get(ACTIVE_KEY);
    if (id === undefined || id === keyring.active.id) return;
    if (!keyring.has(id)) keyring.add(loadKeys(source).keys);
    if (!keyring.has(id)) {
      logger.error(
        `the active master key ${id} is not in this server's keyring; still sealing with ${keyring.active.id}`,
      );
      return;
    }
    keyring.activate(id);
    logger.info(`now sealing with master key ${id}`);
  } catch (error) {
    logger.error('could not check the active master key', { error: message(error) });
  }
}
