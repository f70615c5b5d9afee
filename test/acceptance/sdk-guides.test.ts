/**
 * The SDK guides in docs/sdks.md, run as written against a real server: the stripe-node guide with
 * this project's `stripe` package, the stripe-python one with Debian's python3-stripe (CI installs
 * it; without it the run says so and skips that guide). Only the port (the server listens on a free
 * one) and the key (each run its own emulated platform) are changed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serverForFile } from '../support/in-process-server.js';
import { ROOT, runCommand } from '../support/server-process.js';

const server = serverForFile();
const PYTHON = '/usr/bin/python3';

/** The first code block of `language` under the guide's `## heading`. */
function guide(heading: string, language: string): string {
  const text = readFileSync(join(ROOT, 'docs/sdks.md'), 'utf8');
  const section = text.split(/^## /m).find((s) => s.startsWith(`${heading}\n`));
  const block = section && new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``).exec(section)?.[1];
  if (!block) throw new Error(`docs/sdks.md has no ${language} block under "## ${heading}"`);
  return block;
}

const adapt = (code: string, key: string) =>
  code.replaceAll('12111', String(server.port)).replaceAll('sk_test_123', key);

async function run(command: string, args: string[]): Promise<{ code: number; output: string }> {
  const result = await runCommand(command, args, { cwd: ROOT, env: { PYTHONPATH: '' } });
  return { code: result.code, output: result.stdout + result.stderr };
}

const EXPECTED = ['found api-key: s3cr3t', 'listed a,b,c', 'deleted api-key: true'];

const havePythonStripe = existsSync(join('/usr/lib/python3/dist-packages/stripe/__init__.py'));
if (!havePythonStripe) {
  process.stdout.write('\nstripe-python guide SKIPPED: no python3-stripe (apt-get install python3-stripe)\n');
}

describe('the SDK guides (docs/sdks.md)', () => {
  it('stripe-node: the guide runs as written, paging a user scope two at a time', async () => {
    const key = 'sk_test_guide_node';
    const result = await run(process.execPath, ['--input-type=module', '-e', adapt(guide('stripe-node', 'js'), key)]);
    expect(result.code, result.output).toBe(0);
    expect(result.output.trim().split('\n')).toEqual(EXPECTED);
    const left = await server.stripe(key).apps.secrets.list({ scope: { type: 'user', user: 'usr_123' } });
    expect(left.data).toHaveLength(3);
  });

  it.skipIf(!havePythonStripe)('stripe-python (Debian python3-stripe): the guide runs as written', async () => {
    const key = 'sk_test_guide_python';
    const result = await run(PYTHON, ['-c', adapt(guide('stripe-python', 'python'), key)]);
    expect(result.code, result.output).toBe(0);
    expect(result.output.trim().split('\n')).toEqual(EXPECTED);
    const left = await server.stripe(key).apps.secrets.list({ scope: { type: 'user', user: 'usr_123' } });
    expect(left.data.map((s) => s.name).sort()).toEqual(['a', 'b', 'c']);
  });
});
