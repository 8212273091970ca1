/**
 * How the gateway talks to Redis (node-redis): one way to make a client, and one way to turn a
 * failed command into a 503 that tells the caller to retry.
 */
import { createClient, type RedisClientType } from 'redis';

/** Reconnect after 50 ms, doubling up to 2 s, for as long as it takes. */
const reconnectStrategy = (retries: number): number => Math.min(50 * 2 ** retries, 2000);

/**
 * A client that reconnects by itself. `failFast` refuses commands while disconnected instead of
 * queueing them in this process (where a crash would lose them): callers answer 503 at once.
 */
export function createRedisClient(url: string, options: { readonly failFast: boolean }): RedisClientType {
  return createClient({ url, disableOfflineQueue: options.failFast, socket: { reconnectStrategy } });
}

/** A Redis-backed store could not answer; rendered by the HTTP error handler as 503 with this message. */
export class StoreUnavailable extends Error {
  override readonly name = 'StoreUnavailable';
  readonly status = 503;
  readonly expose = true;
}

/**
 * Runs a command, turning any failure into StoreUnavailable naming `what`. The client's own error
 * stays in `cause`, for the log: its message describes the server side, not the request.
 */
export async function orUnavailable<T>(what: string, command: () => Promise<T>): Promise<T> {
  try {
    return await command();
  } catch (error) {
    throw new StoreUnavailable(`${what} unavailable; retry`, { cause: error });
  }
}
