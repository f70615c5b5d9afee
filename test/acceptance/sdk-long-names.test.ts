/**
 * Names and users at the documented limit of 5,000 characters, through the official SDK, on each
 * engine: created, found with their payload, listed, replaced and deleted, exactly as sent. Random
 * characters (ASCII, and astral ones of 4 bytes each), since a database index compresses repetitive
 * text and would hide a size limit.
 */
import { describe, expect, it } from 'vitest';
import { serverForFile } from '../support/in-process-server.js';
import { freshKey } from '../support/sdk.js';

// A find or a list sends the name and the user in the URL: 5,000 astral characters percent-encode
// to 60,000 bytes each, over the default header limit of 16 KiB.
const server = serverForFile({ config: { maxHeaderBytes: 256 * 1024 } });

/** `length` random characters from a fixed seed, so that a failure reproduces. */
function noise(length: number, astral: boolean, seed: number): string {
  let state = seed;
  const chars: string[] = [];
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    const r = state / 2 ** 32;
    chars.push(
      astral
        ? String.fromCodePoint(r < 0.5 ? 0x1f300 + Math.floor(r * 0x600) : 0x20000 + Math.floor((r - 0.5) * 0x14000))
        : String.fromCharCode(0x21 + Math.floor(r * 94)),
    );
  }
  return chars.join('');
}

describe('names and users of 5,000 characters', () => {
  it.each([
    ['ASCII', false],
    ['astral', true],
  ] as const)('%s: created, found, listed, replaced and deleted exactly as sent', async (_, astral) => {
    const stripe = server.stripe(freshKey(`long_${astral}`));
    const name = noise(5000, astral, 1);
    const scope = { type: 'user' as const, user: noise(5000, astral, 2) };
    const created = await stripe.apps.secrets.create({ name, payload: 'p1', scope });
    expect(created.name).toBe(name);
    expect(created.scope).toEqual(scope);
    const other = await stripe.apps.secrets.create({ name: `${name.slice(0, -2)}!`, payload: 'p2', scope });
    const found = await stripe.apps.secrets.find({ name, scope, expand: ['payload'] });
    expect(found).toMatchObject({ id: created.id, name, payload: 'p1' });
    const replaced = await stripe.apps.secrets.create({ name, payload: 'p3', scope });
    expect(replaced.id).not.toBe(created.id);
    const listed = await stripe.apps.secrets.list({ scope, expand: ['data.payload'] });
    expect(listed.data.map((s) => [s.name, s.payload])).toEqual([
      [name, 'p3'],
      [other.name, 'p2'],
    ]);
    const page = await stripe.apps.secrets.list({ scope, limit: 1, starting_after: replaced.id });
    expect(page.data.map((s) => s.id)).toEqual([other.id]);
    const deleted = await stripe.apps.secrets.deleteWhere({ name, scope });
    expect(deleted).toMatchObject({ id: replaced.id, deleted: true });
    await expect(stripe.apps.secrets.find({ name, scope })).rejects.toMatchObject({ statusCode: 404 });
  });
});
