import { randomBytes } from 'node:crypto';

/** Base62 in ASCII order, so that comparing ids as bytes (SQLite BINARY, PostgreSQL "C") keeps order. */
export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * Random bytes are drawn from the CSPRNG a few kilobytes at a time, as crypto.randomUUID does: one
 * call per id would cost more than the rest of making it. Each byte is handed out once.
 */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolAt = 0;

function randomByte(): number {
  if (poolAt === pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolAt = 0;
  }
  return pool[poolAt++] as number;
}

export function randomBase62(length: number): string {
  // 248 = 4 * 62 keeps the distribution uniform: bytes >= 248 are rejected.
  let out = '';
  while (out.length < length) {
    const byte = randomByte();
    if (byte < 248) out += BASE62[byte % 62];
  }
  return out;
}

function encodeTime(ms: number, width: number): string {
  let out = '';
  let rest = ms;
  for (let i = 0; i < width; i++) {
    out = BASE62[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

function increment(text: string): string | undefined {
  const chars = text.split('');
  for (let i = chars.length - 1; i >= 0; i--) {
    const next = BASE62.indexOf(chars[i] as string) + 1;
    if (next < 62) {
      chars[i] = BASE62[next] as string;
      return chars.join('');
    }
    chars[i] = '0';
  }
  return undefined;
}

const TIME_WIDTH = 8; // milliseconds in base62: good until the year 8900
const ID_BODY = 30; // Stripe's apps.secret ids are `appsecret_` + 30 alphanumerics

/**
 * Makes `appsecret_` ids that sort in creation order (time prefix, then a random part that is
 * incremented within one millisecond). List order is "newest first, ties by id", so ids created in
 * the same second still list in the order they were made.
 */
export function createIdGenerator(now: () => number = Date.now): () => string {
  let lastMs = -1;
  let lastRandom = '';
  return () => {
    const ms = now();
    let random: string | undefined;
    if (ms <= lastMs) random = increment(lastRandom);
    const time = encodeTime(Math.max(ms, lastMs), TIME_WIDTH);
    if (random === undefined) {
      random = randomBase62(ID_BODY - TIME_WIDTH);
      lastMs = ms;
    }
    lastRandom = random;
    return `appsecret_${time}${random}`;
  };
}

export const SECRET_ID = /^appsecret_[0-9A-Za-z]{30}$/;
