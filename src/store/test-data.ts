/**
 * Forgetting test data, for the reset of emulator mode (README, "Testing your app"): one platform's
 * test-mode secrets, idempotency records and audit rows, or every row of all three tables.
 */
import { sql } from 'kysely';
import type { Db } from './schema.js';

/** One platform's test mode. */
export interface TestDataOwner {
  readonly platform: string;
  /** How the owner of each of its idempotency records begins (see http/idempotency-guard.ts). */
  readonly idempotencyOwnerPrefix: string;
}

export interface ForgottenRows {
  readonly secrets: number;
  readonly idempotencyRecords: number;
  readonly auditRows: number;
}

/** Deletes `owner`'s test data, or without an owner everything, in the write transaction `trx`. */
export async function forgetTestData(trx: Db, owner: TestDataOwner | undefined): Promise<ForgottenRows> {
  let secrets = trx.deleteFrom('secrets');
  let records = trx.deleteFrom('idempotency_keys');
  let audit = trx.deleteFrom('audit_log');
  if (owner) {
    const { platform, idempotencyOwnerPrefix: prefix } = owner;
    secrets = secrets.where('platform', '=', platform).where('livemode', '=', 0);
    // A prefix match without LIKE, whose `_` would match any character of an account id.
    records = records.where(sql<string>`substr(${sql.ref('owner')}, 1, ${prefix.length})`, '=', prefix);
    audit = audit.where('platform', '=', platform).where('livemode', '=', 0);
  }
  const deleted = async (query: typeof secrets | typeof records | typeof audit) =>
    Number((await query.executeTakeFirst()).numDeletedRows);
  return {
    secrets: await deleted(secrets),
    idempotencyRecords: await deleted(records),
    auditRows: await deleted(audit),
  };
}
