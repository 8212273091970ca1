/**
 * Closes connections whose access token has expired. Connections sit in buckets by the
 * second their token expires; one timer a second empties the buckets that are due, so the
 * cost is per expiry, not per socket per tick.
 */
import type { Connection } from './connection.ts';

export class TokenExpiry {
  private readonly buckets = new Map<number, Set<Connection>>();
  private timer: NodeJS.Timeout | undefined;
  private nextSecond: number;

  constructor(
    private readonly onExpired: (connection: Connection) => void,
    /** The clock, in milliseconds since the epoch (tests move it). */
    private readonly now: () => number = Date.now,
  ) {
    this.nextSecond = this.nowSecond();
  }

  /** Connections tracked, for checks that registries stay exact. */
  get size(): number {
    let total = 0;
    for (const bucket of this.buckets.values()) total += bucket.size;
    return total;
  }

  start(): void {
    this.nextSecond = this.nowSecond();
    this.timer ??= setInterval(() => this.expireDue(), 1000).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  track(connection: Connection): void {
    const second = connection.expiresAtSecond;
    if (second < this.nextSecond) {
      // Already due (a token accepted at the very edge of its life): expire it on the next tick.
      queueMicrotask(() => this.onExpired(connection));
      return;
    }
    let bucket = this.buckets.get(second);
    if (!bucket) this.buckets.set(second, (bucket = new Set()));
    bucket.add(connection);
  }

  /**
   * The connection's token was renewed (`auth`): its deadline moves to `second`, the new token's `exp`.
   * Only a connection still waiting for its deadline moves; one already expired or released stays out.
   */
  move(connection: Connection, second: number): boolean {
    if (!this.untrack(connection)) return false;
    connection.expiresAtSecond = second;
    this.track(connection);
    return true;
  }

  /** Returns false when the connection was not tracked (expired already, or released). */
  untrack(connection: Connection): boolean {
    const bucket = this.buckets.get(connection.expiresAtSecond);
    if (!bucket?.delete(connection)) return false;
    if (bucket.size === 0) this.buckets.delete(connection.expiresAtSecond);
    return true;
  }

  private expireDue(): void {
    // A JWT `exp` is the first second at which the token is no longer valid.
    const now = this.nowSecond();
    for (; this.nextSecond <= now; this.nextSecond++) {
      const bucket = this.buckets.get(this.nextSecond);
      if (!bucket) continue;
      this.buckets.delete(this.nextSecond);
      for (const connection of bucket) this.onExpired(connection);
    }
  }

  private nowSecond(): number {
    return Math.floor(this.now() / 1000);
  }
}
