/**
 * The master keys: one or more AES-256 keys, named by ids derived from the keys themselves. One is
 * active for sealing; all open. Which one is active is recorded in the database (see active-key.ts),
 * so every server instance seals with the same key and a rotation can switch them all.
 *
 * Keyring text (the key file, or SECRET_STORE_MASTER_KEY): base64 keys separated by newlines or
 * commas; blank lines and lines starting with '#' are ignored. The first key is the one a rotation
 * activates.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { KEY_BYTES, type MasterKey, masterKeyFrom } from './payload-cipher.js';

export class Keyring {
  private readonly keys = new Map<string, MasterKey>();
  private activeId: string;

  constructor(keys: readonly MasterKey[], activeId?: string) {
    if (keys.length === 0) throw new Error('a keyring needs at least one key');
    for (const key of keys) this.keys.set(key.id, key);
    this.activeId = activeId ?? (keys[0] as MasterKey).id;
    if (!this.keys.has(this.activeId)) throw new Error(`the active key ${this.activeId} is not in the keyring`);
  }

  get active(): MasterKey {
    return this.keys.get(this.activeId) as MasterKey;
  }

  get ids(): string[] {
    return [...this.keys.keys()];
  }

  get(id: string): MasterKey | undefined {
    return this.keys.get(id);
  }

  has(id: string): boolean {
    return this.keys.has(id);
  }

  /** Adds keys read again from the source (a rotation added one); existing keys stay. */
  add(keys: readonly MasterKey[]): void {
    for (const key of keys) this.keys.set(key.id, key);
  }

  activate(id: string): void {
    if (!this.keys.has(id)) throw new Error(`key ${id} is not in the keyring`);
    this.activeId = id;
  }
}

export function parseKeyringText(text: string, source: string): MasterKey[] {
  const entries = text
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .flatMap((line) => line.split(','))
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) throw new Error(`${source} holds no key`);
  return entries.map((entry, i) => {
    const key = Buffer.from(entry, 'base64');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(entry) || key.length !== KEY_BYTES) {
      throw new Error(`${source}: key ${i + 1} is not the base64 encoding of exactly ${KEY_BYTES} bytes`);
    }
    return masterKeyFrom(key);
  });
}

export const formatKeyringText = (keys: readonly MasterKey[]): string =>
  `# secret-store master keys: base64 AES-256 keys, newest first. Keep this file secret.\n${keys
    .map((k) => k.key.toString('base64'))
    .join('\n')}\n`;

export const newMasterKey = (): MasterKey => masterKeyFrom(randomBytes(KEY_BYTES));

export type KeyringSource =
  | { readonly kind: 'value'; readonly text: string }
  | { readonly kind: 'file'; readonly path: string; readonly createIfMissing: boolean };

export interface LoadedKeys {
  readonly keys: MasterKey[];
  /** Set when the key file was generated just now, so the caller can say so once. */
  readonly generatedAt?: string;
}

/** Writes the key file atomically (temp file and rename), readable by its owner only. */
export function writeKeyFile(path: string, keys: readonly MasterKey[]): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, formatKeyringText(keys), { mode: 0o600 });
  renameSync(temp, path);
}

export function loadKeys(source: KeyringSource): LoadedKeys {
  if (source.kind === 'value') return { keys: parseKeyringText(source.text, 'SECRET_STORE_MASTER_KEY') };
  if (existsSync(source.path)) {
    return { keys: parseKeyringText(readFileSync(source.path, 'utf8'), `the master key file ${source.path}`) };
  }
  if (!source.createIfMissing) throw new Error(`the master key file ${source.path} does not exist`);
  mkdirSync(dirname(source.path), { recursive: true, mode: 0o700 });
  const key = newMasterKey();
  try {
    // 'wx' fails if another process created the file in between; then use theirs.
    writeFileSync(source.path, formatKeyringText([key]), { mode: 0o600, flag: 'wx' });
  } catch {
    return loadKeys({ ...source, createIfMissing: false });
  }
  return { keys: [key], generatedAt: source.path };
}
