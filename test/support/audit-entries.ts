/** Audit entries for store tests: an account-scope find that succeeded, unless told otherwise. */
import type { AuditEntry } from '../../src/audit/audit-log.js';

export const auditEntry = (overrides: Partial<AuditEntry> = {}): AuditEntry => ({
  time: 1_800_000_000,
  requestId: 'req_1',
  keyId: null,
  platform: 'acct_p',
  account: 'acct_p',
  livemode: false,
  operation: 'find',
  scopeType: 'account',
  scopeUser: null,
  name: 'n',
  outcome: 'ok',
  status: 200,
  ...overrides,
});
