/**
 * What a tenant chose (secret names, user ids, anything a row may hold) reaches the operator's
 * terminal escaped: no forged table rows, no escape sequences. JSON output keeps values exact.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { startInProcess } from '../support/in-process-server.js';
import { useTempDirs } from '../support/server-process.js';

const newDir = useTempDirs();

/** A name that, printed raw, adds a convincing audit row and then clears the screen and retitles it. */
const FORGED_ROW = 'harmless\n2026-01-01T00:00:00.000Z  apps.secret.delete  ok (200)  everything';
const TERMINAL_TRICKS = 'usr_\u001b]0;pwned\u0007\u001b[2J\u202eevil';
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its purpose
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/;

describe('terminal output', () => {
  it('audit prints hostile names and user ids escaped, one line per entry; --json keeps them exact', async () => {
    const dataDir = newDir();
    const server = await startInProcess({ dataDir, engine: 'sqlite' });
    try {
      const stripe = server.stripe();
      await stripe.apps.secrets.create({ name: FORGED_ROW, payload: 'p', scope: { type: 'account' } });
      await stripe.apps.secrets.create({
        name: 'tricks',
        payload: 'p',
        scope: { type: 'user', user: TERMINAL_TRICKS },
      });
    } finally {
      await server.stop();
    }
    const table = await cli(['audit', '--data-dir', dataDir]);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3); // the header and two entries: no forged row
    expect(table.stdout).not.toMatch(RAW);
    expect(table.stdout).toContain('harmless\\n2026-01-01T00:00:00.000Z  apps.secret.delete');
    expect(table.stdout).toContain('user:usr_\\e]0;pwned\\x07\\e[2J\\u202eevil');

    const json = await cli(['audit', '--json', '--data-dir', dataDir]);
    const entries = JSON.parse(json.stdout) as Array<{ name: string; scopeUser: string }>;
    expect(entries.map((e) => e.name).sort()).toEqual([FORGED_ROW, 'tricks'].sort());
    expect(entries.find((e) => e.name === 'tricks')?.scopeUser).toBe(TERMINAL_TRICKS);
  });

  it('keys list prints a hostile row escaped; --json keeps it exact', async () => {
    const dataDir = newDir();
    expect((await cli(['keys', 'create', '--mode', 'test', '--data-dir', dataDir])).code).toBe(0);
    // Key fields are checked when keys are created; a row may still hold anything (an older
    // version, a hand edit, a restored database), and the table must not trust it.
    const db = new Database(join(dataDir, 'secret-store.db'));
    db.prepare('update api_keys set platform = ?, user_id = ?').run(FORGED_ROW, TERMINAL_TRICKS);
    db.close();
    const table = await cli(['keys', 'list', '--data-dir', dataDir]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(table.stdout).not.toMatch(RAW);
    expect(table.stdout).toContain('harmless\\n2026-01-01T00:00:00.000Z');
    expect(table.stdout).toContain('usr_\\e]0;pwned\\x07');
    const json = JSON.parse((await cli(['keys', 'list', '--json', '--data-dir', dataDir])).stdout) as Array<{
      platform: string;
      user: string;
    }>;
    expect(json[0]).toMatchObject({ platform: FORGED_ROW, user: TERMINAL_TRICKS });
  });

  it("an error quoting the server's answer reaches stderr escaped", async () => {
    const dataDir = newDir();
    const server = await startInProcess({ dataDir, engine: 'sqlite' });
    try {
      const result = await cli(['secrets', 'find', `missing${TERMINAL_TRICKS}`, '--scope', 'account'], {
        SECRET_STORE_URL: server.url,
        STRIPE_API_KEY: 'sk_test_123',
      });
      expect(result.code).toBe(1);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(result.stderr).not.toMatch(RAW);
      expect(result.stderr).toContain('missingusr_\\e]0;pwned');
    } finally {
      await server.stop();
    }
  });
});
