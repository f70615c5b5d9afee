/**
 * AES-256-GCM sealing of payloads, between the secrets service and the store: the store only ever
 * sees envelopes. Additional authenticated data binds each envelope to the identity of its row, so a
 * ciphertext copied to another row fails to open, and that is reported as corruption.
 *
 * Envelope, version 1:  [0x01][key id length n][key id, n bytes ASCII][nonce 12][tag 16][ciphertext]
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

export const KEY_BYTES = 32;
const VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export class CorruptEnvelopeError extends Error {
  constructor(reason: string) {
    super(`payload envelope cannot be opened: ${reason}`);
    this.name = 'CorruptEnvelopeError';
  }
}

export interface MasterKey {
  readonly id: string;
  readonly key: Buffer;
}

/** A stable, non-secret name for a key, so envelopes say which key sealed them. */
export function keyIdOf(key: Buffer): string {
  return `k${createHmac('sha256', key).update('secret-store key id').digest('hex').slice(0, 12)}`;
}

export function masterKeyFrom(key: Buffer): MasterKey {
  if (key.length !== KEY_BYTES) throw new Error(`a master key must be exactly ${KEY_BYTES} bytes`);
  return { id: keyIdOf(key), key };
}

/** Binds a value to the parts of its identity; unambiguous because the parts are JSON-encoded. */
export function associatedData(...parts: ReadonlyArray<string | number | boolean>): Buffer {
  return Buffer.from(JSON.stringify(parts), 'utf8');
}

/** The keys a cipher uses: the active one seals, any known one opens. `Keyring` is the real one. */
export interface KeySource {
  readonly active: MasterKey;
  get(id: string): MasterKey | undefined;
}

const fixedKeys = (active: MasterKey, older: readonly MasterKey[]): KeySource => {
  const byId = new Map([...older, active].map((k) => [k.id, k]));
  return { active, get: (id) => byId.get(id) };
};

export class PayloadCipher {
  private readonly keys: KeySource;

  /** Seals with the source's active key, opens with any of its keys. */
  constructor(keys: KeySource | MasterKey, older: readonly MasterKey[] = []) {
    this.keys = 'key' in keys ? fixedKeys(keys, older) : keys;
  }

  get activeKeyId(): string {
    return this.keys.active.id;
  }

  seal(plaintext: string, aad: Buffer): Buffer {
    const active = this.keys.active;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', active.key, nonce);
    cipher.setAAD(aad);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const id = Buffer.from(active.id, 'ascii');
    return Buffer.concat([Buffer.from([VERSION, id.length]), id, nonce, cipher.getAuthTag(), body]);
  }

  /** The id of the key that sealed `envelope`, without opening it. */
  keyIdOf(envelope: Uint8Array): string {
    return this.parse(envelope).keyId;
  }

  open(envelope: Uint8Array, aad: Buffer): string {
    const { keyId, nonce, tag, body } = this.parse(envelope);
    const key = this.keys.get(keyId);
    if (!key) throw new CorruptEnvelopeError(`sealed with unknown key ${keyId}`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.key, nonce);
      decipher.setAAD(aad);
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      throw new CorruptEnvelopeError('authentication failed (tampered, or moved to another row)');
    }
  }

  private parse(envelope: Uint8Array) {
    const buf = Buffer.from(envelope.buffer, envelope.byteOffset, envelope.byteLength);
    if (buf.length < 2 || buf[0] !== VERSION) throw new CorruptEnvelopeError('unknown envelope version');
    const idLength = buf[1] as number;
    const nonceAt = 2 + idLength;
    if (buf.length < nonceAt + NONCE_BYTES + TAG_BYTES) throw new CorruptEnvelopeError('truncated');
    return {
      keyId: buf.toString('ascii', 2, nonceAt),
      nonce: buf.subarray(nonceAt, nonceAt + NONCE_BYTES),
      tag: buf.subarray(nonceAt + NONCE_BYTES, nonceAt + NONCE_BYTES + TAG_BYTES),
      body: buf.subarray(nonceAt + NONCE_BYTES + TAG_BYTES),
    };
  }
}
