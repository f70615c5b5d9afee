/**
 * Backups: every live secret, still sealed, as JSON lines, and with `includeKeys` the API keys'
 * records (their hashes, never a key). A backup reveals no payload; restoring it needs a keyring
 * holding the key that sealed it. Restoring never overwrites: a secret whose name (or id), or a key
 * whose id or hash, is already there is skipped, so importing twice is harmless.
 *
 * Format: a header line, then one line per item. Version 1 holds secrets only; version 2 adds API
 * key lines (`"kind": "api_key"`), so an older importer refuses it whole instead of skipping them.
 */

import { once } from 'node:events';
import { createReadStream, type WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { payloadBinding } from '../crypto/bindings.js';
import { CorruptEnvelopeError, type PayloadCipher } from '../crypto/payload-cipher.js';
import { MAX_SECRETS_PER_SCOPE } from '../secrets/secret.js';
import type { ApiKeyRecord, ApiKeyStore } from '../store/api-key-store.js';
import type { SecretStore, StoredSecret } from '../store/secret-store.js';

export const BACKUP_FORMAT = 'secret-store-backup';
const SECRETS_ONLY = 1;
const WITH_KEYS = 2;

interface BackupHeader {
  format: typeof BACKUP_FORMAT;
  version: number;
  exported_at: number;
}

interface BackupRow {
  id: string;
  platform: string;
  account: string;
  livemode: boolean;
  scope_type: string;
  scope_user: string;
  name: string;
  created: number;
  expires_at: number | null;
  ciphertext: string;
}

interface ApiKeyRow {
  kind: 'api_key';
  id: string;
  key_hash: string;
  display: string;
  livemode: boolean;
  platform: string;
  user_id: string | null;
  created: number;
  revoked_at: number | null;
}

const toRow = (s: StoredSecret): BackupRow => ({
  id: s.id,
  platform: s.platform,
  account: s.account,
  livemode: s.livemode,
  scope_type: s.scopeType,
  scope_user: s.scopeUser,
  name: s.name,
  created: s.created,
  expires_at: s.expiresAt,
  ciphertext: Buffer.from(s.ciphertext).toString('base64'),
});

const toKeyRow = (k: ApiKeyRecord): ApiKeyRow => ({
  kind: 'api_key',
  id: k.id,
  key_hash: k.keyHash,
  display: k.display,
  livemode: k.livemode,
  platform: k.platform,
  user_id: k.userId,
  created: k.created,
  revoked_at: k.revokedAt,
});

/** Throws unless every field has its type ('string?' and 'number?' also allow null). */
function checkFields(row: Record<string, unknown>, fields: Record<string, string>): void {
  for (const [field, type] of Object.entries(fields)) {
    const value = row[field];
    const nullable = type.endsWith('?');
    if (nullable && value === null) continue;
    if (typeof value !== type.replace('?', '')) throw new Error(`field ${field} must be a ${type}`);
  }
}

function fromRow(row: BackupRow): StoredSecret {
  checkFields(row as unknown as Record<string, unknown>, {
    id: 'string',
    platform: 'string',
    account: 'string',
    livemode: 'boolean',
    scope_type: 'string',
    scope_user: 'string',
    name: 'string',
    created: 'number',
    expires_at: 'number?',
    ciphertext: 'string',
  });
  return {
    id: row.id,
    platform: row.platform,
    account: row.account,
    livemode: row.livemode,
    scopeType: row.scope_type,
    scopeUser: row.scope_user,
    name: row.name,
    created: row.created,
    expiresAt: row.expires_at,
    ciphertext: Buffer.from(row.ciphertext, 'base64'),
  };
}

function fromKeyRow(row: ApiKeyRow): ApiKeyRecord {
  checkFields(row as unknown as Record<string, unknown>, {
    id: 'string',
    key_hash: 'string',
    display: 'string',
    livemode: 'boolean',
    platform: 'string',
    user_id: 'string?',
    created: 'number',
    revoked_at: 'number?',
  });
  return {
    id: row.id,
    keyHash: row.key_hash,
    display: row.display,
    livemode: row.livemode,
    platform: row.platform,
    userId: row.user_id,
    created: row.created,
    revokedAt: row.revoked_at,
  };
}

export interface ExportOptions {
  readonly now: number;
  readonly onProgress?: (done: number) => void;
  /** Also write the API keys' records (hashes, never keys). */
  readonly apiKeys?: ApiKeyStore;
}

export interface ExportReport {
  readonly secrets: number;
  readonly apiKeys: number;
}

/** Writes every live secret (and the API keys, if asked) to `path`, mode 0600 also over an existing file. */
export async function exportSecrets(store: SecretStore, path: string, options: ExportOptions): Promise<ExportReport> {
  // The mode given to open applies only to a file it creates: an existing one is tightened before
  // anything is written to it.
  const handle = await open(path, 'w', 0o600);
  let out: WriteStream;
  try {
    await handle.chmod(0o600);
    out = handle.createWriteStream();
  } catch (error) {
    await handle.close();
    throw error;
  }
  const write = async (line: string) => {
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  };
  const version = options.apiKeys ? WITH_KEYS : SECRETS_ONLY;
  const header: BackupHeader = { format: BACKUP_FORMAT, version, exported_at: options.now };
  try {
    await write(JSON.stringify(header));
    const keys = options.apiKeys ? await options.apiKeys.list() : [];
    for (const key of keys) await write(JSON.stringify(toKeyRow(key)));
    let done = 0;
    const total = await store.exportLive(options.now, 500, async (rows) => {
      for (const row of rows) await write(JSON.stringify(toRow(row)));
      done += rows.length;
      options.onProgress?.(done);
    });
    out.end();
    await once(out, 'finish');
    return { secrets: total, apiKeys: keys.length };
  } catch (error) {
    out.destroy();
    throw error;
  }
}

export interface ImportReport {
  imported: number;
  /** A secret with that name (or id) was already there. */
  alreadyPresent: number;
  /** The scope already held the maximum number of secrets. */
  scopeFull: number;
  /** Expired since the backup was taken. */
  expired: number;
  /** No key of the keyring opens it (restore needs the master key of the backup). */
  undecryptable: number;
  /** The ids of the keys that sealed what could not be opened, when the envelope names one. */
  missingKeyIds: string[];
  /** API keys restored, and those already there (same id or hash). */
  apiKeysImported: number;
  apiKeysPresent: number;
  /** Lines that are not a secret of this format: line numbers. */
  malformedLines: number[];
}

export interface ImportOptions {
  readonly now: number;
  readonly onProgress?: (done: number) => void;
}

/** Restores a backup; each secret is checked against its row identity and re-sealed with the active key. */
export async function importSecrets(
  stores: { readonly secrets: SecretStore; readonly apiKeys: ApiKeyStore },
  cipher: PayloadCipher,
  path: string,
  options: ImportOptions,
): Promise<ImportReport> {
  const report: ImportReport = {
    imported: 0,
    alreadyPresent: 0,
    scopeFull: 0,
    expired: 0,
    undecryptable: 0,
    missingKeyIds: [],
    apiKeysImported: 0,
    apiKeysPresent: 0,
    malformedLines: [],
  };
  const missing = new Set<string>();
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Number.POSITIVE_INFINITY });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === '') continue;
    if (lineNumber === 1) {
      const header = JSON.parse(line) as Partial<BackupHeader>;
      if (header.format !== BACKUP_FORMAT || (header.version !== SECRETS_ONLY && header.version !== WITH_KEYS)) {
        throw new Error(`${path} is not a secret-store backup (version ${SECRETS_ONLY} or ${WITH_KEYS})`);
      }
      continue;
    }
    let item: StoredSecret | ApiKeyRecord;
    try {
      item = parseItem(line);
    } catch {
      report.malformedLines.push(lineNumber);
      continue;
    }
    if (!('ciphertext' in item)) {
      if (await stores.apiKeys.insertIfAbsent(item)) report.apiKeysImported++;
      else report.apiKeysPresent++;
      continue;
    }
    const secret = item;
    if (secret.expiresAt !== null && secret.expiresAt <= options.now) {
      report.expired++;
      continue;
    }
    let resealed: Buffer;
    try {
      const binding = payloadBinding(secret);
      resealed = cipher.seal(cipher.open(secret.ciphertext, binding), binding);
    } catch (error) {
      if (!(error instanceof CorruptEnvelopeError)) throw error;
      report.undecryptable++;
      const keyId = sealingKeyId(cipher, secret.ciphertext);
      if (keyId) missing.add(keyId);
      continue;
    }
    const outcome = await stores.secrets.insertIfAbsent(
      { ...secret, ciphertext: resealed },
      { now: options.now, maxPerScope: MAX_SECRETS_PER_SCOPE },
    );
    if (outcome === 'inserted') report.imported++;
    else if (outcome === 'exists') report.alreadyPresent++;
    else report.scopeFull++;
    options.onProgress?.(lineNumber - 1);
  }
  if (lineNumber === 0) throw new Error(`${path} is empty`);
  report.missingKeyIds = [...missing].sort();
  return report;
}

/** A line after the header: a secret, or an API key's record. Throws on anything else. */
function parseItem(line: string): StoredSecret | ApiKeyRecord {
  const row = JSON.parse(line) as (BackupRow | ApiKeyRow) & { kind?: unknown };
  if (row === null || typeof row !== 'object') throw new Error('not an object');
  if (row.kind === 'api_key') return fromKeyRow(row as ApiKeyRow);
  if (row.kind !== undefined) throw new Error('unknown kind');
  return fromRow(row as BackupRow);
}

/** The key an envelope says it was sealed with, when the keyring lacks it; undefined if unreadable. */
function sealingKeyId(cipher: PayloadCipher, envelope: Uint8Array): string | undefined {
  try {
    return cipher.keyIdOf(envelope);
  } catch {
    return undefined;
  }
}
