/**
 * The rooms a client wants, and the requests that get it into them. A room is wanted while `subscribe()` pinned it
 * or while `room()` has observers (refcounted), and is requested again after every reconnect. Each request carries a
 * correlation id; the gateway's `subscribed`/`unsubscribed`/`error` reply settles it, or it times out.
 */
import { assertNever, type ClientMessage, type Room, type ServerMessage } from '@payments-system/protocol';
import { filter, map, merge, Observable, Subject, take, timer, type Subscription } from 'rxjs';
import type { RealtimeConnectionState } from '../connection/connection-state';
import { RealtimeRequestError } from '../errors';

/** The gateway's acknowledgement of a `subscribe`/`unsubscribe`. */
export interface RealtimeRoomAck {
  readonly room: Room;
  /** Absent when the request was settled locally (nothing had to be sent). */
  readonly correlationId?: string;
}

export type RoomReply = ServerMessage<'subscribed' | 'unsubscribed' | 'error'>;
type RoomAction = 'subscribe' | 'unsubscribe';

interface RoomResult {
  readonly room: Room;
  readonly action: RoomAction;
  readonly ack?: RealtimeRoomAck;
  readonly error?: RealtimeRequestError;
}

interface PendingRequest {
  readonly room: Room;
  readonly action: RoomAction;
  readonly timer: Subscription;
}

/** What room requests need from the connection. */
export interface RoomRequestsLink {
  state(): RealtimeConnectionState;
  /** Writes to the open socket; `false` when there is none. */
  write(message: ClientMessage): boolean;
  nextId(prefix: string): string;
  now(): number;
}

export class RoomRequests {
  private readonly pinned = new Set<Room>();
  private readonly observers = new Map<Room, number>();
  private readonly pending = new Map<string, PendingRequest>();
  private readonly results = new Subject<RoomResult>();
  private readonly stopped = new Subject<void>();

  constructor(
    private readonly link: RoomRequestsLink,
    private readonly timeoutMs: number,
  ) {}

  /** Pins the room (kept across reconnects until `unsubscribe`) and emits the ack of its next request. */
  subscribe(room: Room): Observable<RealtimeRoomAck> {
    this.pinned.add(room);
    return this.await(room, 'subscribe');
  }

  /** Unpins the room; leaves it at once without a request when `room()` still uses it or when not connected. */
  unsubscribe(room: Room): Observable<RealtimeRoomAck> {
    this.pinned.delete(room);
    if (this.count(room) > 0 || !this.connected()) return new Observable((s) => (s.next({ room }), s.complete()));
    return this.await(room, 'unsubscribe');
  }

  /** One more `room()` observer: the first one joins the room unless `subscribe()` pinned it. */
  acquire(room: Room): void {
    const count = this.count(room) + 1;
    this.observers.set(room, count);
    if (count === 1 && !this.pinned.has(room) && this.connected()) this.request('subscribe', room);
  }

  /** One `room()` observer less: the last one leaves the room unless `subscribe()` pinned it. */
  release(room: Room): void {
    const left = this.count(room) - 1;
    if (left > 0) {
      this.observers.set(room, left);
      return;
    }
    this.observers.delete(room);
    if (!this.pinned.has(room) && this.connected()) this.request('unsubscribe', room);
  }

  /** The gateway's refusals (`FORBIDDEN`, `BAD_REQUEST`) of joining `room`. */
  refusals(room: Room): Observable<RealtimeRequestError> {
    return this.results.pipe(
      filter((r) => r.room === room && r.action === 'subscribe'),
      map((r) => r.error),
      filter((e): e is RealtimeRequestError => e !== undefined && (e.code === 'FORBIDDEN' || e.code === 'BAD_REQUEST')),
    );
  }

  /** A socket opened: request every wanted room again (before the resume and the queued messages). */
  rejoinAll(): void {
    for (const room of new Set([...this.pinned, ...this.observers.keys()])) this.request('subscribe', room);
  }

  /** A reply that may answer one of our requests. */
  settle(reply: RoomReply): void {
    const correlationId = reply.correlationId;
    const request = correlationId === undefined ? undefined : this.pending.get(correlationId);
    if (correlationId === undefined || !request) return;
    this.pending.delete(correlationId);
    request.timer.unsubscribe();
    const { room, action } = request;
    switch (reply.type) {
      case 'subscribed':
      case 'unsubscribed':
        this.results.next({ room, action, ack: { room: reply.payload.room, correlationId } });
        return;
      case 'error':
        if (action === 'subscribe') this.pinned.delete(room); // refused: do not re-request it on every reconnect
        this.results.next({ room, action, error: new RealtimeRequestError(reply.payload.code, reply.payload.message, room) });
        return;
      default:
        assertNever(reply, 'room reply');
    }
  }

  /**
   * Follows the connection: requests in flight die with their socket (the room is requested again on the next
   * open), and waiting `subscribe()`/`unsubscribe()` calls reject once the connection is `disconnected`.
   */
  stateChanged(state: RealtimeConnectionState): void {
    if (state === 'connected') return;
    for (const request of this.pending.values()) request.timer.unsubscribe();
    this.pending.clear();
    if (state === 'disconnected') this.stopped.next();
  }

  private await(room: Room, action: RoomAction): Observable<RealtimeRoomAck> {
    return new Observable<RealtimeRoomAck>((subscriber) => {
      const disconnected = this.stopped.pipe(
        map((): RoomResult => {
          const error = new RealtimeRequestError('DISCONNECTED', `${action} ${room}: the connection was closed`, room);
          return { room, action, error };
        }),
      );
      const subscription = merge(this.results.pipe(filter((r) => r.room === room && r.action === action)), disconnected)
        .pipe(take(1))
        .subscribe((result) => {
          if (result.error) subscriber.error(result.error);
          else if (result.ack) {
            subscriber.next(result.ack);
            subscriber.complete();
          }
        });
      if (this.connected()) {
        this.request(action, room);
      } else if (this.link.state() === 'disconnected') {
        subscriber.error(new RealtimeRequestError('DISCONNECTED', `${action} ${room}: not connected; call connect()`, room));
      } // else: connecting or reconnecting; the next open requests the room (rejoinAll) and settles this.
      return subscription;
    });
  }

  private request(action: RoomAction, room: Room): void {
    const correlationId = this.link.nextId(action === 'subscribe' ? 'sub' : 'unsub');
    const timestamp = new Date(this.link.now()).toISOString();
    if (!this.link.write({ type: action, payload: { room }, correlationId, timestamp })) return;
    const timeout = timer(this.timeoutMs).subscribe(() => {
      if (!this.pending.delete(correlationId)) return;
      const error = new RealtimeRequestError('TIMEOUT', `${action} ${room}: no reply within ${this.timeoutMs} ms`, room);
      this.results.next({ room, action, error });
    });
    this.pending.set(correlationId, { room, action, timer: timeout });
  }

  private connected(): boolean {
    return this.link.state() === 'connected';
  }

  private count(room: Room): number {
    return this.observers.get(room) ?? 0;
  }
}
