/**
 * POST /_secret_store/clock with `advance=N`: moves the clock of the caller's platform N seconds
 * forward; its secrets and idempotency records expire by it at once. Answers the new time.
 */
import { errors } from '../../errors/api-error.js';
import { MAX_ADVANCE_SECONDS } from '../../secrets/platform-clocks.js';
import { optionalInteger, rejectUnknown } from '../params.js';
import type { TestToolEndpoint } from '../test-tool-endpoint.js';

export const advanceTestClock: TestToolEndpoint<number> = {
  method: 'POST',
  path: '/_secret_store/clock',
  operation: 'test_clock.advance',
  parse(params) {
    rejectUnknown(params, ['advance']);
    const seconds = optionalInteger(params, 'advance');
    if (seconds === undefined) throw errors.missingParameter('advance');
    if (seconds < 0 || seconds > MAX_ADVANCE_SECONDS) throw errors.clockBackwards(MAX_ADVANCE_SECONDS);
    return seconds;
  },
  async run(tools, platform, seconds) {
    return JSON.stringify({ now: tools.clocks.advance(platform, seconds) });
  },
};
