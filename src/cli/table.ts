/**
 * Text for a person's terminal. Secret names, user ids and payloads are chosen by tenants, and a
 * newline in one would forge a row of the audit table, an escape sequence would reach the
 * operator's terminal (moving the cursor, rewriting what is on screen, setting the title). Every
 * such character is printed escaped instead; --json output keeps the values exactly.
 */

/**
 * C0 and C1 controls, DEL, the backslash (so that an escape cannot be faked by typing one), and the
 * characters that reorder or hide text: line and paragraph separators, bidirectional overrides and
 * isolates, zero-width marks and the byte order mark.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its purpose
const UNSAFE = /[\\\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

const NAMED: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\u001b': '\\e' };

const escapeOne = (c: string): string => {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/** `text` with every character that could act on a terminal, or hide or reorder text, escaped. */
export const terminalText = (text: string): string => text.replace(UNSAFE, escapeOne);

/** Rows as aligned columns under upper-case headers, every cell escaped for the terminal. */
export function formatTable(rows: ReadonlyArray<Record<string, string>>): string {
  const columns = Object.keys(rows[0] ?? {});
  const cells = rows.map((r) => columns.map((c) => terminalText(r[c] ?? '')));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => (row[i] ?? '').length)));
  const render = (line: string[]) =>
    `${line
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()}\n`;
  return render(columns.map((c) => c.toUpperCase())) + cells.map(render).join('');
}
