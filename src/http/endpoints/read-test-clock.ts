/** GET /_secret_store/clock: the time of the caller's platform, in unix seconds. */
import { noParameters } from '../params.js';
import type { TestToolEndpoint } from '../test-tool-endpoint.js';

export const readTestClock: TestToolEndpoint<void> = {
  method: 'GET',
  path: '/_secret_store/clock',
  operation: 'test_clock.read',
  parse: noParameters,
  async run(tools, platform) {
    return JSON.stringify({ now: Math.floor(tools.clocks.at({ platform, livemode: false }) / 1000) });
  },
};
