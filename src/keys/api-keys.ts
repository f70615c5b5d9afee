/**
 * API keys: their format, how they are hashed and shown, and who a key acts as (its principal).
 *
 * Registered keys are stored as SHA-256 hashes (keys are 256-bit random strings, so a slow password
 * hash would add nothing) and compared in constant time. In emulator mode an unregistered, well-formed
 * test key is accepted and is its own platform account, derived from the key, so the same key always
 * sees the same secrets and two keys never see each other's.
 */
import { hash, timingSafeEqual } from 'node:crypto';
import { errors } from '../errors/api-error.js';
import { BASE62, randomBase62 } from '../secrets/secret-id.js';
import type { ApiKeyRecord, ApiKeyStore } from '../store/api-key-store.js';

export const API_KEY_PATTERN = /^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/;
export const ACCOUNT_ID_PATTERN = /^acct_[A-Za-z0-9]{1,64}$/;
export const USER_ID_PATTERN = /^usr_[A-Za-z0-9]{1,64}$/;

export interface Principal {
  /** The registered key's id; null for an emulator-mode key. */
  readonly keyId: string | null;
  readonly platform: string;
  readonly livemode: boolean;
  /** Set for user-bound keys: such a key may only use account scope or its own user. */
  readonly user: string | null;
  /**
   * Which key this is, for what belongs to one key (idempotency records): a registered key's id, or
   * a digest of an emulator key (never the key).
   */
  readonly caller: string;
}

export const hashApiKey = (key: string): string => hash('sha256', key, 'hex');

const MASK_MAX = 64;

/** Enough to recognise a key in a list or an error, never enough to use it. */
export function maskApiKey(key: string): string {
  const match = /^([a-z]{2}_(?:test|live)_)(.*)$/s.exec(key);
  const prefix = match?.[1] ?? '';
  const rest = match?.[2] ?? key;
  // The stars are capped, so a huge bogus header cannot make a huge error message or log line.
  if (rest.length >= 16) return `${prefix}${'*'.repeat(Math.min(rest.length - 4, MASK_MAX))}${rest.slice(-4)}`;
  return `${prefix}${'*'.repeat(Math.min(rest.length, MASK_MAX))}`;
}

export const modeOfKey = (key: string): boolean | undefined =>
  API_KEY_PATTERN.test(key) ? key.split('_')[1] === 'live' : undefined;

function base62Digest(text: string, length: number): string {
  // In hex: node's one-shot hash answers a string faster than it allocates a Buffer.
  const digest = hash('sha256', text, 'hex');
  let out = '';
  for (let i = 0; i < length; i++) out += BASE62[Number.parseInt(digest.slice(2 * i, 2 * i + 2), 16) % 62];
  return out;
}

/** The platform account an emulator-mode key acts as; stable for the key, distinct between keys. */
export const emulatedPlatformOf = (key: string): string => `acct_${base62Digest(`emulated:${key}`, 16)}`;

/** Who an unregistered test key acts as in emulator mode: its own platform, bound to no user. */
export const emulatorPrincipal = (key: string, keyHash = hashApiKey(key)): Principal => ({
  keyId: null,
  platform: emulatedPlatformOf(key),
  livemode: false,
  user: null,
  caller: `emulator_${keyHash.slice(0, 32)}`,
});

/** The most emulator principals kept; the map starts over when full. */
const EMULATOR_PRINCIPALS_KEPT = 10_000;

export const newAccountId = (): string => `acct_${randomBase62(16)}`;

export interface NewApiKey {
  readonly key: string;
  readonly record: ApiKeyRecord;
}

export function generateApiKey(options: {
  livemode: boolean;
  platform?: string;
  user?: string;
  now: number;
}): NewApiKey {
  const key = `sk_${options.livemode ? 'live' : 'test'}_${randomBase62(56)}`;
  return {
    key,
    record: {
      id: `key_${randomBase62(20)}`,
      keyHash: hashApiKey(key),
      display: maskApiKey(key),
      livemode: options.livemode,
      platform: options.platform ?? newAccountId(),
      userId: options.user ?? null,
      created: options.now,
      revokedAt: null,
    },
  };
}

export class KeyAuthority {
  /**
   * Emulator principals by key hash (never by key): each is a pure function of its key, so a test
   * suite's few keys are derived once instead of hashed twice more on every request.
   */
  private readonly emulated = new Map<string, Principal>();

  constructor(
    private readonly store: ApiKeyStore,
    private readonly options: { readonly emulator: boolean },
  ) {}

  get emulator(): boolean {
    return this.options.emulator;
  }

  async authenticate(key: string): Promise<Principal> {
    const livemode = modeOfKey(key);
    if (livemode === undefined) throw errors.invalidApiKey(maskApiKey(key));
    const keyHash = hashApiKey(key);
    const record = await this.store.findByHash(keyHash);
    if (record && timingSafeEqual(Buffer.from(record.keyHash, 'hex'), Buffer.from(keyHash, 'hex'))) {
      if (record.revokedAt !== null) throw errors.revokedApiKey(maskApiKey(key));
      return {
        keyId: record.id,
        platform: record.platform,
        livemode: record.livemode,
        user: record.userId,
        caller: record.id,
      };
    }
    if (this.options.emulator && !livemode) {
      let principal = this.emulated.get(keyHash);
      if (!principal) {
        if (this.emulated.size >= EMULATOR_PRINCIPALS_KEPT) this.emulated.clear();
        principal = emulatorPrincipal(key, keyHash);
        this.emulated.set(keyHash, principal);
      }
      return principal;
    }
    throw errors.invalidApiKey(maskApiKey(key));
  }
}
