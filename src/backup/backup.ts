/**
 * Backups: every live secret, still sealed, as JSON lines. A backup reveals no payload; restoring
 * it needs a keyring holding the key that sealed it. Restoring never overwrites: a secret whose name
 * (or id) is already there is skipped, so importing twice is harmless.
 */

import { once } from 'node:events';
import { createReadStream, type WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { payloadBinding } from '../crypto/bindings.js';
import { CorruptEnvelopeError, type PayloadCipher } from '../crypto/payload-cipher.js';
import { MAX_SECRETS_PER_SCOPE } from '../secrets/secret.js';
import type { SecretStore, StoredSecret } from '../store/secret-store.js';

export const BACKUP_FORMAT = 'secret-store-backup';
export const BACKUP_VERSION = 1;

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

function fromRow(row: BackupRow): StoredSecret {
  const fields: Array<[string, unknown, string]> = [
    ['id', row.id, 'string'],
    ['platform', row.platform, 'string'],
    ['account', row.account, 'string'],
    ['livemode', row.livemode, 'boolean'],
    ['scope_type', row.scope_type, 'string'],
    ['scope_user', row.scope_user, 'string'],
    ['name', row.name, 'string'],
    ['created', row.created, 'number'],
    ['ciphertext', row.ciphertext, 'string'],
  ];
  for (const [field, value, type] of fields) {
    if (typeof value !== type) throw new Error(`field ${field} must be a ${type}`);
  }
  if (row.expires_at !== null && typeof row.expires_at !== 'number')
    throw new Error('field expires_at must be a number or null');
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

export interface ExportOptions {
  readonly now: number;
  readonly onProgress?: (done: number) => void;
}

/** Writes every live secret to `path` (mode 0600, also over an existing file); returns how many. */
export async function exportSecrets(store: SecretStore, path: string, options: ExportOptions): Promise<number> {
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
  const header: BackupHeader = { format: BACKUP_FORMAT, version: BACKUP_VERSION, exported_at: options.now };
  try {
    await write(JSON.stringify(header));
    let done = 0;
    const total = await store.exportLive(options.now, 500, async (rows) => {
      for (const row of rows) await write(JSON.stringify(toRow(row)));
      done += rows.length;
      options.onProgress?.(done);
    });
    out.end();
    await once(out, 'finish');
    return total;
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
  /** Lines that are not a secret of this format: line numbers. */
  malformedLines: number[];
}

export interface ImportOptions {
  readonly now: number;
  readonly onProgress?: (done: number) => void;
}

/** Restores a backup; each secret is checked against its row identity and re-sealed with the active key. */
export async function importSecrets(
  store: SecretStore,
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
    malformedLines: [],
  };
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Number.POSITIVE_INFINITY });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === '') continue;
    if (lineNumber === 1) {
      const header = JSON.parse(line) as Partial<BackupHeader>;
      if (header.format !== BACKUP_FORMAT || header.version !== BACKUP_VERSION) {
        throw new Error(`${path} is not a secret-store backup (version ${BACKUP_VERSION})`);
      }
      continue;
    }
    let secret: StoredSecret;
    try {
      secret = fromRow(JSON.parse(line) as BackupRow);
    } catch {
      report.malformedLines.push(lineNumber);
      continue;
    }
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
      continue;
    }
    const outcome = await store.insertIfAbsent(
      { ...secret, ciphertext: resealed },
      { now: options.now, maxPerScope: MAX_SECRETS_PER_SCOPE },
    );
    if (outcome === 'inserted') report.imported++;
    else if (outcome === 'exists') report.alreadyPresent++;
    else report.scopeFull++;
    options.onProgress?.(lineNumber - 1);
  }
  if (lineNumber === 0) throw new Error(`${path} is empty`);
  return report;
}
