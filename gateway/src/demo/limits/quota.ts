/**
 * A quota on what one key (a user, an account, a client address) may do per window, counted by
 * rate-limiter-flexible: in this process, or in Redis when one is given, so that every gateway
 * counts together. When Redis cannot answer, each gateway counts alone in memory until it can (the
 * library's insurance limiter), rather than refusing everyone or letting everything through.
 */
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { NativeRedisClient } from '../../redis/connection.ts';

export type Admission = { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number };

export interface QuotaOptions {
  /** Names the quota's keys (in Redis: `realtime:quota:<name>:<key>`). */
  readonly name: string;
  /** Units per window. */
  readonly points: number;
  readonly windowSeconds: number;
}

const ADMITTED: Admission = Object.freeze({ ok: true });

export class Quota {
  private readonly limiter: RateLimiterAbstract;

  constructor(options: QuotaOptions, redis?: NativeRedisClient) {
    const limits = { points: options.points, duration: options.windowSeconds, keyPrefix: `realtime:quota:${options.name}` };
    this.limiter = redis
      ? new RateLimiterRedis({
          ...limits,
          storeClient: redis,
          useRedisPackage: true,
          // A command that cannot be sent now fails at once (the client does not queue offline).
          rejectIfRedisNotReady: true,
          insuranceLimiter: new RateLimiterMemory(limits),
        })
      : new RateLimiterMemory(limits);
  }

  /** Spends one unit for `key`; refused, with the wait until the window ends, once all are spent. */
  async take(key: string): Promise<Admission> {
    try {
      await this.limiter.consume(key);
      return ADMITTED;
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(refusal.msBeforeNext / 1000)) };
    }
  }

  /** Gives `key` its whole quota back (a login that succeeded ends a run of attempts). */
  async reset(key: string): Promise<void> {
    await this.limiter.delete(key);
  }
}
