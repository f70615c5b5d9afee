/**
 * Optional rate limiting modelled on Stripe's basic limiter (README, "Retries and limits"): a token bucket per platform
 * account and mode, refilled at N requests per second with a burst of N. It is per server instance
 * (instances behind a load balancer each allow N). Off by default: emulator users want speed.
 */
import { type ApiError, errors } from '../errors/api-error.js';

export interface RateLimits {
  readonly testPerSecond: number;
  readonly livePerSecond: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

const MAX_BUCKETS = 100_000;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limits: RateLimits,
    /** Milliseconds; only differences count, and a clock set back refills nothing. */
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes one token for `account` in its mode; the 429 to answer with when there is none. */
  take(account: string, livemode: boolean): ApiError | undefined {
    const rate = livemode ? this.limits.livePerSecond : this.limits.testPerSecond;
    const key = `${account}:${livemode ? 'live' : 'test'}`;
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= MAX_BUCKETS) this.buckets.clear(); // bounded memory under key churn
      bucket = { tokens: rate, updatedMs: now };
      this.buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(rate, bucket.tokens + (Math.max(0, now - bucket.updatedMs) / 1000) * rate);
    bucket.updatedMs = now;
    if (bucket.tokens < 1) return errors.rateLimited(rate, livemode);
    bucket.tokens -= 1;
    return undefined;
  }
}
