import { isPlatformServer } from '@angular/common';
import { assertInInjectionContext, computed, DestroyRef, inject, Injectable, Injector, PLATFORM_ID, signal, type Signal } from '@angular/core';
import {
  assertNever,
  isPresenceRoom,
  isRoom,
  type ClientMessage,
  type PresenceRoom,
  type Room,
  type RoomEvent,
  type ServerMessage,
  type ServerMessageType,
} from '@payments-system/protocol';
import { asyncScheduler, BehaviorSubject, distinctUntilChanged, filter, firstValueFrom, map, Observable, Subject, Subscription } from 'rxjs';
import { ɵREALTIME_CONFIG, ɵREALTIME_RANDOM } from './config';
import type { RealtimeConnectionSnapshot, RealtimeConnectionState } from './connection/connection-state';
import { ɵREALTIME_TRANSPORT, type RealtimeTransportEvent } from './connection/transport';
import { correlationIds } from './correlation-ids';
import { RealtimeRequestError, type RealtimeError } from './errors';
import { EventCursor } from './session/event-cursor';
import { PresenceWatches, type RealtimePresenceMember } from './session/presence-watches';
import { RoomRequests, type RealtimeRoomAck } from './session/room-requests';
import { SendQueue } from './session/send-queue';

export type { RealtimeConnectionSnapshot, RealtimeConnectionState } from './connection/connection-state';
export type { RealtimeRoomAck } from './session/room-requests';
export type { RealtimePresenceMember } from './session/presence-watches';

/**
 * The realtime connection of an application: one WebSocket to the gateway, typed streams of its
 * messages, room subscriptions that survive reconnects, and a retry policy built from RxJS operators.
 *
 * Provide it with `provideRealtime()`; inject it anywhere. It is a facade: the socket, its retries and its
 * state belong to the transport; rooms, resume and the send queue to the parts in `session/`.
 */
@Injectable()
export class RealtimeService {
  private readonly config = inject(ɵREALTIME_CONFIG);
  private readonly isServer = isPlatformServer(inject(PLATFORM_ID));
  private readonly nextId = correlationIds(inject(ɵREALTIME_RANDOM));
  private readonly cursor = new EventCursor();
  private readonly queue = new SendQueue<ClientMessage>(this.config.sendQueueSize);
  private readonly transport = inject(ɵREALTIME_TRANSPORT)({ resumePoint: () => this.cursor.lastEventId });
  /** The send/reply path of requests (rooms, presence): written to the open socket, matched by correlation id. */
  private readonly requests = {
    state: () => this.snapshot().state,
    write: (message: ClientMessage) => this.transport.write(message),
    nextId: this.nextId,
    now: () => asyncScheduler.now(),
  };
  private readonly rooms = new RoomRequests(this.requests, this.config.requestTimeoutMs);
  private readonly presenceWatches = new PresenceWatches(this.requests, this.config.requestTimeoutMs);

  private readonly snapshot = signal<RealtimeConnectionSnapshot>(this.transport.snapshot);
  private readonly snapshot$ = new BehaviorSubject<RealtimeConnectionSnapshot>(this.transport.snapshot);
  private readonly _lastError = signal<RealtimeError | null>(null);
  private readonly _lastEventId = signal<string | null>(null);
  private readonly messagesSubject = new Subject<ServerMessage>();
  private readonly errorsSubject = new Subject<RealtimeError>();
  private readonly roomEvents = new Subject<RoomEvent>();
  private readonly sessionEndedSubject = new Subject<void>();

  /** Connection state as a signal. */
  readonly state: Signal<RealtimeConnectionState> = computed(() => this.snapshot().state);
  /** Connection state as an observable (replays the current state, emits on real changes only). */
  readonly state$: Observable<RealtimeConnectionState> = this.snapshot$.pipe(
    map((s) => s.state),
    distinctUntilChanged(),
  );
  /** State, attempt and next retry time together, for a store or a status bar. */
  readonly connection$: Observable<RealtimeConnectionSnapshot> = this.snapshot$.asObservable();
  readonly isConnected: Signal<boolean> = computed(() => this.snapshot().state === 'connected');
  /** The retry in progress or scheduled (1-based), 0 when connected. */
  readonly attempt: Signal<number> = computed(() => this.snapshot().attempt);
  /** Epoch ms of the next scheduled retry, or `null`. */
  readonly nextRetryAt: Signal<number | null> = computed(() => this.snapshot().nextRetryAt);
  /** The most recent error; cleared when a connection opens. */
  readonly lastError: Signal<RealtimeError | null> = this._lastError.asReadonly();
  /** Every error as it happens (connection, auth and protocol errors). Never errors itself. */
  readonly errors$: Observable<RealtimeError> = this.errorsSubject.asObservable();
  /** Every valid server message. Malformed frames never reach it (they become `protocol` errors). */
  readonly messages$: Observable<ServerMessage> = this.messagesSubject.asObservable();
  /**
   * Id of the newest room event received, or the position the gateway gave before the first one (`resumed`). After a
   * reconnect the service sends `resume` with it, and the gateway replays what the socket's rooms missed; events at
   * or below it are dropped as duplicates.
   */
  readonly lastEventId: Signal<string | null> = this._lastEventId.asReadonly();
  /**
   * Emits when the login session the service worked for is over: the token became empty (a sign-out) or a token of
   * another session replaced it (another `sid` or user claim). By then the resume position (`lastEventId`) and the
   * send queue are dropped, so the next login starts clean and never replays the previous session's events. A
   * refreshed token keeps the session. The NgRx store resets its payments on it.
   */
  readonly sessionEnded$: Observable<void> = this.sessionEndedSubject.asObservable();

  constructor() {
    const events = this.transport.events$.subscribe((event) => this.onTransportEvent(event));
    inject(DestroyRef).onDestroy(() => {
      this.queue.clear();
      this.transport.destroy();
      events.unsubscribe();
      this.snapshot$.complete();
      this.messagesSubject.complete();
      this.errorsSubject.complete();
      this.roomEvents.complete();
      this.sessionEndedSubject.complete();
    });
    if (this.config.autoConnect) this.connect();
  }

  // ------------------------------------------------------------------ public API

  /** Messages of one type, with the payload type narrowed: `on('payment:updated')`. */
  on<K extends ServerMessageType>(type: K): Observable<ServerMessage<K>> {
    // The distributive ServerMessage<K> cannot be related to ServerMessage by TypeScript for a generic K;
    // the runtime check on `type` is exactly the narrowing the cast states.
    return this.messages$.pipe(filter((m) => m.type === type)) as Observable<ServerMessage<K>>;
  }

  /**
   * Opens the connection (no-op when already open or opening, and on the server platform).
   * Failures are retried with backoff; see `state`, `attempt` and `lastError`.
   */
  connect(): void {
    if (!this.isServer) this.transport.connect();
  }

  /** Closes the connection (code 1000) and stops retrying. Pending `subscribe()` calls reject; the send queue is cleared. */
  disconnect(): void {
    this.queue.clear();
    this.transport.disconnect();
  }

  /** Drops the current connection (if any) and connects again with a fresh backoff schedule. */
  reconnect(): void {
    if (!this.isServer) this.transport.reconnect();
  }

  /**
   * Sends a message now when connected, or queues it until the next connection.
   * Returns `false` when the message was refused: the queue (`sendQueueSize`, default 100) is full,
   * or this is the server platform. Queued messages are sent in order right after rooms are re-subscribed.
   * Use `subscribe()`/`room()` rather than sending `subscribe` messages yourself, so rooms survive reconnects.
   */
  send(message: ClientMessage): boolean {
    if (this.isServer) return false;
    if (this.snapshot().state === 'connected' && this.transport.write(message)) return true;
    return this.queue.offer(message);
  }

  /**
   * Joins a room and keeps it joined across reconnects until `unsubscribe(room)`.
   * Resolves with the gateway's ack; rejects with a {@link RealtimeRequestError}
   * (`FORBIDDEN`, `BAD_REQUEST`, `TIMEOUT` or `DISCONNECTED`). While not connected it waits for the next connection.
   */
  subscribe(room: Room): Promise<RealtimeRoomAck> {
    const refused = this.refuse(room);
    if (refused) return Promise.reject(refused);
    return firstValueFrom(this.rooms.subscribe(room));
  }

  /** Leaves a room. Resolves at once (without a request) when `room()` still uses it or when not connected. */
  unsubscribe(room: Room): Promise<RealtimeRoomAck> {
    const invalid = checkRoom(room);
    if (invalid) return Promise.reject(invalid);
    return firstValueFrom(this.rooms.unsubscribe(room));
  }

  /**
   * The events published to `room` (room events carry their `room`), joining the room on the first subscriber
   * and leaving it after the last. Errors with a {@link RealtimeRequestError} when the gateway refuses the room.
   */
  room(room: Room): Observable<RoomEvent> {
    return new Observable<RoomEvent>((subscriber) => {
      const invalid = checkRoom(room);
      if (invalid) {
        subscriber.error(invalid);
        return undefined;
      }
      const subscription = new Subscription();
      subscription.add(this.rooms.refusals(room).subscribe((error) => subscriber.error(error)));
      subscription.add(this.roomEvents.pipe(filter((event) => event.room === room)).subscribe((event) => subscriber.next(event)));
      this.rooms.acquire(room);
      return () => {
        subscription.unsubscribe();
        this.rooms.release(room);
      };
    });
  }

  /**
   * Who is in a `user:` or `payment:` room, on every gateway, as it changes: the users with at least one socket in
   * it. Watches the room from the first subscriber to the last (asked for again after every reconnect, the list then
   * replacing what was known); emits from the first list on, and keeps the last one while not connected. Errors with
   * a {@link RealtimeRequestError} when the gateway refuses (`FORBIDDEN`: a room the user may not join;
   * `RATE_LIMITED`: too many rooms watched by one socket). The socket need not be in the room.
   */
  presence$(room: PresenceRoom): Observable<readonly RealtimePresenceMember[]> {
    return new Observable<readonly RealtimePresenceMember[]>((subscriber) => {
      if (!isPresenceRoom(room)) {
        subscriber.error(new RealtimeRequestError('BAD_REQUEST', `no presence for ${JSON.stringify(room)}: only user: and payment: rooms`, room));
        return undefined;
      }
      if (this.isServer) return undefined; // no socket on the server platform: no members, ever
      return this.presenceWatches.watch(room).subscribe(subscriber);
    });
  }

  /**
   * {@link presence$} as a signal (`[]` until the first list, and after a refusal), watched until the injection
   * context it was made in (or `options.injector`) is destroyed: `readonly viewers = realtime.presence(paymentRoom(id))`.
   */
  presence(room: PresenceRoom, options: { readonly injector?: Injector } = {}): Signal<readonly RealtimePresenceMember[]> {
    if (!options.injector) assertInInjectionContext(this.presence);
    const injector = options.injector ?? inject(Injector);
    const members = signal<readonly RealtimePresenceMember[]>([]);
    const subscription = this.presence$(room).subscribe({ next: (list) => members.set(list), error: () => members.set([]) });
    injector.get(DestroyRef).onDestroy(() => subscription.unsubscribe());
    return members.asReadonly();
  }

  // ------------------------------------------------------------------ transport events

  private onTransportEvent(event: RealtimeTransportEvent): void {
    switch (event.type) {
      case 'state':
        this.snapshot.set(event.snapshot);
        this.snapshot$.next(event.snapshot);
        this.rooms.stateChanged(event.snapshot.state);
        this.presenceWatches.stateChanged(event.snapshot.state);
        return;
      case 'open':
        this._lastError.set(null);
        this.rooms.rejoinAll();
        this.presenceWatches.rewatchAll();
        // After the rooms, so the gateway replays for all of them; answered by `resumed` or `recovery:failed`.
        this.transport.write(this.cursor.resumeMessage(this.nextId('resume')));
        for (const message of this.queue.drain()) this.transport.write(message);
        return;
      case 'message':
        this.receive(event.message);
        return;
      case 'error':
        this._lastError.set(event.error);
        this.errorsSubject.next(event.error);
        return;
      case 'session-ended':
        this.cursor.reset();
        this._lastEventId.set(null);
        this.queue.clear();
        this.sessionEndedSubject.next();
        return;
      default:
        assertNever(event, 'transport event');
    }
  }

  /** What the client does with each server message type before the app sees it. */
  private receive(message: ServerMessage): void {
    switch (message.type) {
      case 'payment:updated':
      case 'session:sync':
      case 'notification:new':
      case 'system:broadcast':
        if (!this.cursor.accept(message)) return; // already seen (a replay overlapping live delivery)
        this._lastEventId.set(this.cursor.lastEventId);
        this.messagesSubject.next(message);
        this.roomEvents.next(message);
        return;
      case 'subscribed':
      case 'unsubscribed':
        this.rooms.settle(message);
        this.messagesSubject.next(message);
        return;
      case 'error':
        this.rooms.settle(message);
        this.presenceWatches.settle(message);
        this.messagesSubject.next(message);
        return;
      case 'presence':
        this.presenceWatches.settle(message);
        this.messagesSubject.next(message);
        return;
      case 'presence:joined':
      case 'presence:left':
        this.presenceWatches.change(message);
        this.messagesSubject.next(message);
        return;
      case 'resumed':
        // A position (the reply to a resume without one) or the end of a replay: either way the cursor's floor.
        this.cursor.advance(message.payload.since);
        this._lastEventId.set(this.cursor.lastEventId);
        this.messagesSubject.next(message);
        return;
      case 'pong': // the heartbeat counts any frame; nothing else to do
      case 'recovery:failed':
      case 'authenticated': // the transport's in-band refresh reads it
        this.messagesSubject.next(message);
        return;
      default:
        assertNever(message, 'server message type');
    }
  }

  private refuse(room: Room): RealtimeRequestError | null {
    const invalid = checkRoom(room);
    if (invalid || !this.isServer) return invalid;
    return new RealtimeRequestError('DISCONNECTED', 'no WebSocket on the server platform', room);
  }
}

function checkRoom(room: string): RealtimeRequestError | null {
  return isRoom(room) ? null : new RealtimeRequestError('BAD_REQUEST', `not a room name: ${JSON.stringify(room)}`, room);
}
