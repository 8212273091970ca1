/** How a failed Redis command becomes a 503 that tells the caller to retry. */

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
