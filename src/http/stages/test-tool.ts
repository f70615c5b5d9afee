/**
 * The stages of a request to the test tools (emulator mode only; README, "Testing your app"): find
 * the tool, then, once the caller is authenticated and the parameters are read, run it for the
 * caller's platform. A tool acts on a whole platform's test mode, so it takes a test key bound to
 * no user.
 */
import { errors } from '../../errors/api-error.js';
import type { Stage } from '../request-context.js';
import type { AnyTestToolEndpoint, TestTools } from '../test-tool-endpoint.js';
import { routeTo } from './route.js';

export const routeTestTool = (endpoints: readonly AnyTestToolEndpoint[]): Stage =>
  routeTo(endpoints, (context, tool) => {
    context.testTool = tool;
  });

export function runTestTool(tools: TestTools): Stage {
  return async (context) => {
    const { principal, testTool, record } = context;
    if (principal.livemode) throw errors.testToolsNeedTestKey();
    if (principal.user !== null) throw errors.testToolsNeedUnboundKey(principal.user);
    const body = await testTool.run(tools, principal.platform, testTool.parse(context.params));
    record.status = 200;
    context.outcome = { status: 200, body };
  };
}
