import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { associatedData, CorruptEnvelopeError, masterKeyFrom, PayloadCipher } from '../../src/crypto/payload-cipher.js';

const key = () => masterKeyFrom(randomBytes(32));
const aad = associatedData('secret', 'acct_p', 'acct_a', false, 'account', '', 'name');

describe('PayloadCipher', () => {
  it('round-trips unicode and empty-ish payloads, with a fresh nonce each time', () => {
    const cipher = new PayloadCipher(key());
    for (const text of ['x', 'é∑😀 a+b=c&d', 'p'.repeat(5000)]) {
      const a = cipher.seal(text, aad);
      const b = cipher.seal(text, aad);
      expect(a.equals(b)).toBe(false);
      expect(cipher.open(a, aad)).toBe(text);
      // A 1-byte plaintext turns up in random ciphertext by chance, so only texts long
      // enough that a chance match is negligible (2^-64 per position) are checked for leaks.
      if (Buffer.byteLength(text) >= 8) expect(a.includes(Buffer.from(text))).toBe(false);
    }
  });

  it('refuses a tampered envelope', () => {
    const cipher = new PayloadCipher(key());
    const sealed = cipher.seal('secret value', aad);
    for (const at of [sealed.length - 1, sealed.length - 20, 20]) {
      const tampered = Buffer.from(sealed);
      tampered[at] = (tampered[at] as number) ^ 1;
      expect(() => cipher.open(tampered, aad)).toThrow(CorruptEnvelopeError);
    }
    expect(() => cipher.open(sealed.subarray(0, 10), aad)).toThrow(CorruptEnvelopeError);
  });

  it('refuses an envelope moved to another row (other name, scope user or account)', () => {
    const cipher = new PayloadCipher(key());
    const sealed = cipher.seal('secret value', aad);
    const others = [
      associatedData('secret', 'acct_p', 'acct_a', false, 'account', '', 'other-name'),
      associatedData('secret', 'acct_p', 'acct_b', false, 'account', '', 'name'),
      associatedData('secret', 'acct_p', 'acct_a', true, 'account', '', 'name'),
      associatedData('secret', 'acct_p', 'acct_a', false, 'user', 'usr_1', 'name'),
    ];
    for (const other of others) expect(() => cipher.open(sealed, other)).toThrow(CorruptEnvelopeError);
  });

  it('opens with an older key of the keyring and seals with the active one', () => {
    const oldKey = key();
    const newKey = key();
    const before = new PayloadCipher(oldKey).seal('v', aad);
    const rotated = new PayloadCipher(newKey, [oldKey]);
    expect(rotated.open(before, aad)).toBe('v');
    expect(rotated.keyIdOf(rotated.seal('v', aad))).toBe(newKey.id);
    expect(() => new PayloadCipher(newKey).open(before, aad)).toThrow(/unknown key/);
  });
});
