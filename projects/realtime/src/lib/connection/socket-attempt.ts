/**
 * One connection attempt: one socket on `rxjs/webSocket`, its frames parsed (never thrown), its heartbeat, and
 * one ending. Whatever happens (a failed handshake, a drop, a clean close, a heartbeat timeout), the attempt
 * ends with a {@link ConnectionLost} error for the retry policy to judge; unsubscribing closes the socket.
 */
import { parseServerMessage, type ClientMessage, type ParseResult, type ServerMessage } from '@payments-system/protocol';
import { Observable, Subject } from 'rxjs';
import { webSocket, type WebSocketSubject } from 'rxjs/webSocket';
import type { RealtimeHeartbeatOptions, WebSocketConstructor } from '../config';
import { heartbeat } from './heartbeat';
import { describeEnding, type ConnectionEnding } from './retry-policy';

export type Frame = ParseResult<ServerMessage>;

/** The open socket of an attempt. */
export interface OpenSocket {
  send(message: ClientMessage): void;
  /** Closes with a code; the attempt then ends without an error of its own (its subscriber is gone). */
  close(code: number, reason: string): void;
}

export type SocketEvent =
  | { readonly type: 'open'; readonly socket: OpenSocket }
  | { readonly type: 'frame'; readonly frame: Frame };

/** How an attempt ended: the error every attempt ends with. */
export class ConnectionLost extends Error implements ConnectionEnding {
  override readonly name = 'ConnectionLost';

  constructor(
    readonly opened: boolean,
    readonly code: number,
    readonly reason: string,
    readonly token: string,
  ) {
    super(describeEnding({ opened, code, reason }));
  }
}

export interface SocketAttemptOptions {
  readonly url: string;
  /** Subprotocols to offer (`['bearer', <JWT>]`), or `undefined`. */
  readonly protocols: string[] | undefined;
  /** The token this attempt uses (reported in its ending, for the expired-handshake rule). */
  readonly token: string;
  readonly WebSocketCtor: WebSocketConstructor | null;
  readonly heartbeat: Required<RealtimeHeartbeatOptions> | null;
  readonly nextId: (prefix: string) => string;
}

/** One socket attempt. Emits `open` and frames; always ends with a {@link ConnectionLost} error. */
export function openSocket(options: SocketAttemptOptions): Observable<SocketEvent> {
  return new Observable<SocketEvent>((subscriber) => {
    const { token, WebSocketCtor } = options;
    if (!WebSocketCtor) {
      subscriber.error(new ConnectionLost(false, 1006, 'no WebSocket implementation', token));
      return undefined;
    }
    let opened = false;
    let active = true;
    let closeEvent: CloseEvent | null = null;
    const frames = new Subject<void>();
    const lost = (fallbackCode: number, reason = '') =>
      new ConnectionLost(opened, closeEvent?.code ?? fallbackCode, closeEvent?.reason ?? reason, token);
    const subject: WebSocketSubject<ClientMessage | Frame> = webSocket<ClientMessage | Frame>({
      url: options.url,
      protocol: options.protocols,
      WebSocketCtor,
      serializer: (message) => JSON.stringify(message),
      // Never throws: a bad frame becomes a tagged result, so it cannot error the socket stream.
      deserializer: (event: MessageEvent): Frame =>
        typeof event.data === 'string'
          ? parseServerMessage(event.data)
          : { ok: false, error: 'binary frames are not part of the protocol' },
      openObserver: {
        next: () => {
          if (!active) return;
          opened = true;
          if (options.heartbeat) {
            const ping = () => subject.next({ type: 'ping', correlationId: options.nextId('ping') });
            const dead = () => lost(1006, 'heartbeat timeout');
            subscription.add(heartbeat(options.heartbeat, frames, ping, dead).subscribe({ error: (e: unknown) => subscriber.error(e) }));
          }
          const socket: OpenSocket = {
            send: (message) => subject.next(message),
            close: (code, reason) => subject.error({ code, reason }),
          };
          subscriber.next({ type: 'open', socket });
        },
      },
      closeObserver: {
        next: (event: CloseEvent) => {
          if (active) closeEvent = event;
        },
      },
    });
    const subscription = subject.subscribe({
      next: (frame) => {
        if (!('ok' in frame)) return;
        frames.next();
        subscriber.next({ type: 'frame', frame });
      },
      // An error event (failed handshake, abnormal drop) arrives before its close event: 1006.
      error: () => subscriber.error(lost(1006)),
      // rxjs completes on a clean close (1000, 1001, 4001...): for us every close is an ending to decide on.
      complete: () => subscriber.error(lost(1005)),
    });
    return () => {
      active = false;
      subscription.unsubscribe();
    };
  });
}
