/**
 * Re-seals every stored envelope (secret payloads and saved idempotent responses) with the active
 * master key, in batches, while the server keeps serving: each row is swapped only if it is still
 * the envelope that was read, so a concurrent write is never lost. Running it again resumes: rows
 * already on the active key are skipped.
 */
import { idempotencyBinding, payloadBinding } from '../crypto/bindings.js';
import { CorruptEnvelopeError, type PayloadCipher } from '../crypto/payload-cipher.js';
import type { IdempotencyStore } from '../store/idempotency-store.js';
import type { SecretStore } from '../store/secret-store.js';

export interface ReencryptDeps {
  readonly secrets: SecretStore;
  readonly idempotency: IdempotencyStore;
  readonly cipher: PayloadCipher;
}

export interface PassResult {
  /** Envelopes looked at. */
  scanned: number;
  /** Envelopes re-sealed with the active key. */
  resealed: number;
  /** Envelopes that changed under us (a request replaced them); the next pass looks again. */
  raced: number;
  /** Envelopes that no key of the keyring opens: reported, left as they are. */
  unreadable: number;
}

export interface PassOptions {
  readonly batchSize: number;
  /** Only count what is not on the active key; change nothing. */
  readonly dryRun?: boolean;
  readonly onBatch?: (result: Readonly<PassResult>) => void;
}

const emptyResult = (): PassResult => ({ scanned: 0, resealed: 0, raced: 0, unreadable: 0 });

function reseal(cipher: PayloadCipher, envelope: Uint8Array, binding: Buffer): Buffer | 'current' | 'unreadable' {
  try {
    if (cipher.keyIdOf(envelope) === cipher.activeKeyId) return 'current';
    return cipher.seal(cipher.open(envelope, binding), binding);
  } catch (error) {
    if (error instanceof CorruptEnvelopeError) return 'unreadable';
    throw error;
  }
}

async function apply(
  result: PassResult,
  next: Buffer | 'current' | 'unreadable',
  dryRun: boolean,
  swap: (next: Buffer) => Promise<boolean>,
): Promise<void> {
  result.scanned++;
  if (next === 'current') return;
  if (next === 'unreadable') {
    result.unreadable++;
    return;
  }
  if (dryRun || (await swap(next))) result.resealed++;
  else result.raced++;
}

/** One pass over everything; `resealed` in a dry run counts what still needs re-sealing. */
export async function reencryptPass(deps: ReencryptDeps, options: PassOptions): Promise<PassResult> {
  const { cipher } = deps;
  const dryRun = options.dryRun ?? false;
  const result = emptyResult();
  let afterId = '';
  for (;;) {
    const rows = await deps.secrets.scan(afterId, options.batchSize);
    if (rows.length === 0) break;
    for (const row of rows) {
      const next = reseal(cipher, row.ciphertext, payloadBinding(row));
      await apply(result, next, dryRun, (sealed) => deps.secrets.swapCiphertext(row.id, row.ciphertext, sealed));
    }
    afterId = (rows.at(-1) as { id: string }).id;
    options.onBatch?.(result);
  }
  let after = { owner: '', key: '' };
  for (;;) {
    const records = await deps.idempotency.scanCompleted(after, options.batchSize);
    if (records.length === 0) break;
    for (const record of records) {
      const next = reseal(cipher, Buffer.from(record.body, 'base64'), idempotencyBinding(record.owner, record.key));
      await apply(result, next, dryRun, (sealed) =>
        deps.idempotency.swapBody(record, record.body, sealed.toString('base64')),
      );
    }
    after = records.at(-1) as { owner: string; key: string };
    options.onBatch?.(result);
  }
  return result;
}
