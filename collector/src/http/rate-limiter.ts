/** Options of `RateLimiter`. */
export interface RateLimiterOptions {
  /** Requests per minute a key may make; a key may also spend a whole minute's worth at once. */
  perMinute: number;
  /** Keys kept in memory; beyond it, full buckets and then the oldest keys are dropped. @default 100000 */
  maxKeys?: number;
  /** Clock in epoch ms. @default Date.now */
  now?: () => number;
}

/** Result of `RateLimiter.take`. */
export type TakeResult =
  | { isAllowed: true }
  /** `rejections` counts the rejections of this key since its last allowed request, this one included. */
  | { isAllowed: false; retryAfterMs: number; rejections: number };

interface Bucket {
  tokens: number;
  updatedAt: number;
  rejections: number;
}

/**
 * Token buckets in memory, one per key: each holds up to `perMinute` tokens,
 * refills at `perMinute` per minute, and every request takes one token. The
 * state is per process, so several collector processes each allow the limit.
 */
export class RateLimiter {
  readonly perMinute: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #refillPerMs: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: RateLimiterOptions) {
    const { perMinute, maxKeys = 100_000 } = options;
    if (!Number.isInteger(perMinute) || perMinute < 1) {
      throw new Error(`perMinute must be an integer of at least 1, received ${perMinute}`);
    }
    if (!Number.isInteger(maxKeys) || maxKeys < 1) {
      throw new Error(`maxKeys must be an integer of at least 1, received ${maxKeys}`);
    }
    this.perMinute = perMinute;
    this.#maxKeys = maxKeys;
    this.#now = options.now ?? Date.now;
    this.#refillPerMs = perMinute / 60_000;
  }

  /** Number of keys in memory. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes one token of `key`'s bucket, or returns how long until one is available. */
  take(key: string): TakeResult {
    const now = this.#now();
    const bucket = this.#buckets.get(key) ?? this.#addBucket(key, now);
    this.#refill(bucket, now);

    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      bucket.rejections = 0;
      return { isAllowed: true };
    }

    bucket.rejections += 1;
    const retryAfterMs = Math.ceil((1 - bucket.tokens) / this.#refillPerMs);
    return { isAllowed: false, retryAfterMs, rejections: bucket.rejections };
  }

  #refill(bucket: Bucket, now: number): void {
    // A clock that moves back adds nothing, rather than taking tokens away.
    const elapsedMs = Math.max(0, now - bucket.updatedAt);
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + elapsedMs * this.#refillPerMs);
    bucket.updatedAt = now;
  }

  #addBucket(key: string, now: number): Bucket {
    if (this.#buckets.size >= this.#maxKeys) this.#prune(now);
    const bucket = { tokens: this.perMinute, updatedAt: now, rejections: 0 };
    this.#buckets.set(key, bucket);
    return bucket;
  }

  /**
   * Drops buckets that refilled completely, because a full bucket behaves like
   * a missing one. When that frees too little, drops the oldest keys down to
   * 90% of `maxKeys`, which lets those keys start over with a full bucket.
   */
  #prune(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      this.#refill(bucket, now);
      if (bucket.tokens >= this.perMinute) this.#buckets.delete(key);
    }

    const target = Math.floor(this.#maxKeys * 0.9);
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size <= target) break;
      this.#buckets.delete(key);
    }
  }
}
