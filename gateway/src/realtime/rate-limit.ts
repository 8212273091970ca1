/**
 * Token buckets for what one socket may send: refilled lazily when spent, so no timer per socket.
 * A socket has one for its messages and one for its `resume` requests (a replay costs far more
 * than a message, so resumes get their own, much smaller budget).
 */

export interface RateLimit {
  /** Tokens refilled per second. */
  readonly perSecond: number;
  /** Tokens the bucket holds at most: what may be spent at once. */
  readonly burst: number;
}

export interface TokenBucket {
  tokens: number;
  refilledAt: number;
}

export function fullBucket(limit: RateLimit, now: number): TokenBucket {
  return { tokens: limit.burst, refilledAt: now };
}

/** Spends one token; false when the bucket has none left. */
export function takeToken(bucket: TokenBucket, limit: RateLimit, now: number): boolean {
  const elapsedMs = now - bucket.refilledAt;
  if (elapsedMs > 0) {
    bucket.tokens = Math.min(limit.burst, bucket.tokens + (elapsedMs * limit.perSecond) / 1000);
    bucket.refilledAt = now;
  }
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

/** Milliseconds until the bucket holds a whole token again (0 when it does). */
export function msUntilToken(bucket: TokenBucket, limit: RateLimit): number {
  return bucket.tokens >= 1 ? 0 : Math.ceil(((1 - bucket.tokens) * 1000) / limit.perSecond);
}
