/**
 * The README as a reference: its configuration table lists every flag of `serve` and every
 * environment variable the configuration reads, its command table every command, and it links
 * nowhere outside the repository.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { ENVIRONMENT } from '../../src/config/server-config.js';
import { ROOT } from '../support/server-process.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const section = (title: string) => {
  const start = readme.indexOf(`\n## ${title}\n`);
  expect(start, `README has a "## ${title}" section`).toBeGreaterThan(-1);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
};

describe('the README', () => {
  it('lists every flag of serve and every environment variable in Configuration', () => {
    const configuration = section('Configuration');
    const serve = buildProgram().commands.find((c) => c.name() === 'serve');
    const flags = (serve?.options ?? []).map((o) => o.long as string);
    expect(flags.length).toBeGreaterThan(20);
    for (const flag of flags) expect(configuration, flag).toContain(`\`${flag}`);
    for (const variable of Object.values(ENVIRONMENT)) expect(configuration, variable).toContain(`\`${variable}\``);
  });

  it('has every command in the command table, each row a row of the table', () => {
    const commands = section('Command line');
    const table = commands.slice(
      commands.indexOf('| command'),
      commands.indexOf('\n\n', commands.indexOf('| command')),
    );
    for (const line of table.trim().split('\n')) expect(line).toMatch(/^\|.*\|$/);
    const names = buildProgram().commands.flatMap((c) =>
      c.commands.length ? c.commands.map((sub) => `${c.name()} ${sub.name()}`) : [c.name()],
    );
    for (const name of names) expect(table, name).toContain(`secret-store ${name}`);
  });

  it('links nowhere outside the repository and names no issue', () => {
    expect(readme).not.toContain('../');
    expect(readme).not.toMatch(/\bissue \d+|#\d+\b/);
  });
});
