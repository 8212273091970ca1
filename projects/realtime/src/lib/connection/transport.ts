/**
 * The seam between `RealtimeService` (the facade: rooms, resume, send queue, typed streams) and whatever owns
 * the socket. The default owner is {@link WebSocketTransport}: one socket per service. Another owner (one
 * socket shared by the tabs of a browser, say) implements the same interface and the facade does not change.
 */
import { InjectionToken } from '@angular/core';
import type { ClientMessage, ServerMessage } from '@payments-system/protocol';
import type { Observable } from 'rxjs';
import type { RealtimeError } from '../errors';
import type { RealtimeConnectionSnapshot } from './connection-state';

export type RealtimeTransportEvent =
  /** The connection state changed (only real changes). */
  | { readonly type: 'state'; readonly snapshot: RealtimeConnectionSnapshot }
  /**
   * A socket opened; `write()` works from now on. Emitted before the state becomes `connected`, so that the
   * facade re-joins its rooms, resumes and flushes its queue before anyone sees `connected`.
   */
  | { readonly type: 'open' }
  /** A valid server message. */
  | { readonly type: 'message'; readonly message: ServerMessage }
  /** A connection, auth or protocol error (a malformed frame: the socket stays up). */
  | { readonly type: 'error'; readonly error: RealtimeError }
  /**
   * The login session the connection worked for is over: the app's token became empty (a sign-out) or belongs to
   * another session. Emitted before any socket of the next session opens, so the facade first drops what belonged to
   * the old one (its resume position, its queued messages): a new login never replays the previous one's events.
   */
  | { readonly type: 'session-ended' };

export interface RealtimeTransport {
  /** The current state. */
  readonly snapshot: RealtimeConnectionSnapshot;
  /** Every event, in order; completes on `destroy()`. */
  readonly events$: Observable<RealtimeTransportEvent>;
  /** Starts connecting (a no-op while connecting or connected). */
  connect(): void;
  /** Drops the current socket, if any, and connects again with a fresh backoff schedule. */
  reconnect(): void;
  /** Closes (1000) and stops retrying. */
  disconnect(): void;
  /** Writes to the open socket; `false` when there is none. */
  write(message: ClientMessage): boolean;
  /**
   * Disconnects and releases everything; the transport is not used again. `handOver`: a socket of another tab of the
   * browser takes over at once (the socket closes with 4010, and the gateway keeps the user present meanwhile).
   */
  destroy(handOver?: boolean): void;
}

/** What a transport needs from the facade. */
export interface RealtimeTransportLink {
  /** Id of the newest room event the client has seen, announced at each handshake (`?since=`). */
  resumePoint(): string | null;
}

export type RealtimeTransportFactory = (link: RealtimeTransportLink) => RealtimeTransport;

/** @internal Makes the transport of a `RealtimeService`; `provideRealtime()` provides the WebSocket one. */
export const ɵREALTIME_TRANSPORT = new InjectionToken<RealtimeTransportFactory>('ɵREALTIME_TRANSPORT');
