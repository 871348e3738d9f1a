import { LruMap } from './lru';

/** A token bucket: `burst` requests at once, refilled at `perSecond`. */
export interface RateLimit {
  perSecond: number;
  burst: number;
}

/** What one request found in its bucket. */
export interface BucketVerdict {
  allowed: boolean;
  /** Whole requests left after this one. */
  remaining: number;
  /** Whole seconds until the next request would be allowed (0 when this one was). */
  retryAfterSeconds: number;
  /** Whole seconds until the bucket is full again. */
  fullInSeconds: number;
}

interface Bucket {
  tokens: number;
  /** When `tokens` was computed (performance.now(), milliseconds). */
  at: number;
}

/** The most buckets one TokenBuckets keeps: past it the least recently used goes (it starts full when it comes back). */
export const MAX_BUCKETS = 20_000;

/**
 * One budget's token buckets, by id (a key, an address), in this process's memory. Bounded: at most `maxBuckets`,
 * least recently used out first, and a bucket idle long enough to be full again is dropped (a new one is the same).
 */
export class TokenBuckets {
  private readonly buckets: LruMap<string, Bucket>;
  /** How long an untouched bucket takes to fill from empty: after that it is the same as none. */
  private readonly fullAfterMs: number;

  constructor(
    readonly limit: RateLimit,
    maxBuckets = MAX_BUCKETS,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1)) throw new Error(`a rate limit needs a positive rate and a burst of 1 or more, not ${limit.perSecond}/s and ${limit.burst}`);
    this.buckets = new LruMap(maxBuckets);
    this.fullAfterMs = (limit.burst / limit.perSecond) * 1000;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Takes one token from `id`'s bucket, if it has one. */
  take(id: string): BucketVerdict {
    const now = this.now();
    this.dropIdle(now);
    const { perSecond, burst } = this.limit;
    const bucket = this.buckets.get(id) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.buckets.set(id, bucket);
    return {
      allowed,
      remaining: Math.floor(bucket.tokens),
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond)),
      fullInSeconds: Math.ceil((burst - bucket.tokens) / perSecond),
    };
  }

  /** The least recently used come first: drop them while they have been idle long enough to be full. */
  private dropIdle(now: number): void {
    for (let oldest = this.buckets.oldest(); oldest && now - oldest[1].at >= this.fullAfterMs; oldest = this.buckets.oldest()) {
      this.buckets.delete(oldest[0]);
    }
  }
}
