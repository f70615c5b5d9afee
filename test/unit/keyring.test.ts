import { describe, expect, it } from 'vitest';
import { formatKeyringText, Keyring, newMasterKey, parseKeyringText } from '../../src/crypto/keyring.js';

describe('keyring text', () => {
  it('round-trips several keys through the file format, newest first', () => {
    const keys = [newMasterKey(), newMasterKey()];
    const parsed = parseKeyringText(formatKeyringText(keys), 'test');
    expect(parsed.map((k) => k.id)).toEqual(keys.map((k) => k.id));
  });

  it('accepts comma-separated keys (the environment variable) and ignores comments and blank lines', () => {
    const [a, b] = [newMasterKey(), newMasterKey()];
    const text = `# a comment, with a comma\n\n${a.key.toString('base64')}, ${b.key.toString('base64')}\n`;
    expect(parseKeyringText(text, 'env').map((k) => k.id)).toEqual([a.id, b.id]);
  });

  it('rejects short keys, non-base64 text and an empty keyring, naming the source', () => {
    expect(() => parseKeyringText(Buffer.alloc(16).toString('base64'), 'F')).toThrow(/F: key 1 .* 32 bytes/);
    expect(() => parseKeyringText('not base64 at all!', 'F')).toThrow(/32 bytes/);
    expect(() => parseKeyringText('# only a comment\n', 'F')).toThrow(/holds no key/);
  });

  it('activates only keys it holds', () => {
    const [a, b] = [newMasterKey(), newMasterKey()];
    const ring = new Keyring([a]);
    expect(() => ring.activate(b.id)).toThrow();
    ring.add([b]);
    ring.activate(b.id);
    expect(ring.active.id).toBe(b.id);
  });
});
