/**
 * POST /_secret_store/reset: forgets the test-mode secrets, idempotency records and audit rows of
 * the caller's platform and stores its fixtures again. Its clock stays where it is.
 */
import { noParameters } from '../params.js';
import type { TestToolEndpoint } from '../test-tool-endpoint.js';

export const resetTestData: TestToolEndpoint<void> = {
  method: 'POST',
  path: '/_secret_store/reset',
  operation: 'test_data.reset',
  parse: noParameters,
  async run(tools, platform) {
    const { deleted, fixturesLoaded } = await tools.reset(platform);
    return JSON.stringify({
      deleted: {
        secrets: deleted.secrets,
        idempotency_records: deleted.idempotencyRecords,
        audit_rows: deleted.auditRows,
      },
      fixtures_loaded: fixturesLoaded,
    });
  },
};
