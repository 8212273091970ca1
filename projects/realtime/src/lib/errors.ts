import type { ErrorCode, Room } from '@payments-system/protocol';

/**
 * Why the connection failed or misbehaved.
 * - `auth`: the token expired and could not be refreshed, or the session was revoked (4003).
 * - `network`: the socket could not open or dropped (1006), or the heartbeat found it dead.
 * - `protocol`: the gateway sent a frame that is not a valid server message (the connection stays up).
 * - `closed-by-server`: the gateway closed the socket with a code (1000, 1001, 1008, 1009, 1011, 4008...).
 */
export type RealtimeErrorKind = 'auth' | 'network' | 'protocol' | 'closed-by-server';

/** A connection-level error. A plain, serialisable object, so it can live in a signal or an NgRx store. */
export interface RealtimeError {
  readonly kind: RealtimeErrorKind;
  readonly message: string;
  /** The WebSocket close code, when the error is a close (1006 for a failed or dropped connection). */
  readonly closeCode?: number;
  /** Epoch milliseconds when the error was observed. */
  readonly at: number;
}

/** Why a `subscribe`/`unsubscribe` request failed: the gateway's error code, or a client-side one. */
export type RealtimeRequestErrorCode = ErrorCode | 'TIMEOUT' | 'DISCONNECTED';

/** Rejection of `subscribe()`/`unsubscribe()` and error of `room()`. */
export class RealtimeRequestError extends Error {
  override readonly name = 'RealtimeRequestError';

  constructor(
    readonly code: RealtimeRequestErrorCode,
    message: string,
    readonly room: Room | string,
  ) {
    super(message);
  }
}
