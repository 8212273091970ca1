/**
 * Per-socket token bucket, refilled lazily on each message: no timer per socket.
 */
import type { Connection } from './connection.ts';

export interface RateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

/** Spends one message of the connection's allowance; false when it has none left. */
export function takeMessageToken(connection: Connection, limit: RateLimit, now: number): boolean {
  const elapsedMs = now - connection.lastRefillAt;
  if (elapsedMs > 0) {
    connection.allowance = Math.min(limit.burst, connection.allowance + (elapsedMs * limit.perSecond) / 1000);
    connection.lastRefillAt = now;
  }
  if (connection.allowance < 1) return false;
  connection.allowance -= 1;
  return true;
}
