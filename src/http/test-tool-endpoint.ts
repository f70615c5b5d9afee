/**
 * What each endpoint of the test tools provides (emulator mode only; README, "Testing your app"):
 * its route, how it reads its parameters and what it runs for the caller's platform. The stages in
 * `stages/test-tool.ts` do the rest.
 */
import type { PlatformClocks } from '../secrets/platform-clocks.js';
import type { ForgottenRows } from '../store/test-data.js';
import type { FormObject } from './form-params.js';

/** Where the test tools live; in registered-keys mode these paths are unknown URLs (404). */
export const TEST_TOOLS_PREFIX = '/_secret_store/';

export interface ResetSummary {
  readonly deleted: ForgottenRows;
  readonly fixturesLoaded: number;
}

/** What the test tools act on (see app/test-tools.ts). */
export interface TestTools {
  readonly clocks: PlatformClocks;
  /** Forgets the platform's test data and stores its fixtures again. */
  reset(platform: string): Promise<ResetSummary>;
}

export interface TestToolEndpoint<Command> {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** Stable operation name for logs and metrics. */
  readonly operation: string;
  /** Validates and converts the wire parameters; throws 400s before anything runs. */
  parse(params: FormObject): Command;
  /** Runs the command for the test mode of `platform` and returns the JSON response body. */
  run(tools: TestTools, platform: string, command: Command): Promise<string>;
}

/** Erases the command type so endpoints of different commands can share one route table. */
// biome-ignore lint/suspicious/noExplicitAny: the command type is private to each endpoint
export type AnyTestToolEndpoint = TestToolEndpoint<any>;
