import { DOCUMENT, isPlatformServer } from '@angular/common';
import {
  computed,
  DestroyRef,
  effect,
  inject,
  Injectable,
  Injector,
  isSignal,
  PLATFORM_ID,
  runInInjectionContext,
  signal,
  untracked,
  type Signal,
} from '@angular/core';
import {
  BEARER_SUBPROTOCOL,
  closeAdvice,
  CloseCode,
  compareEventIds,
  isRoom,
  parseRoom,
  parseServerMessage,
  SINCE_QUERY_PARAM,
  TOKEN_QUERY_PARAM,
  type ClientMessage,
  type ParseResult,
  type Room,
  type RoomEvent,
  type RoomEventType,
  type ServerMessage,
  type ServerMessageType,
} from '@payments-system/protocol';
import {
  asyncScheduler,
  BehaviorSubject,
  defer,
  distinctUntilChanged,
  EMPTY,
  exhaustMap,
  filter,
  firstValueFrom,
  from,
  fromEvent,
  interval,
  isObservable,
  map,
  merge,
  NEVER,
  Observable,
  race,
  retry,
  skip,
  Subject,
  Subscription,
  switchMap,
  take,
  tap,
  throwError,
  timeout,
  timer,
  catchError,
  throwIfEmpty,
} from 'rxjs';
import { webSocket, type WebSocketSubject } from 'rxjs/webSocket';
import { backoffDelay } from './backoff';
import {
  ɵREALTIME_CONFIG,
  ɵREALTIME_ONLINE,
  ɵREALTIME_RANDOM,
  ɵREALTIME_WEB_SOCKET_CTOR,
  type RealtimeTokenValue,
  type ResolvedRealtimeConfig,
} from './config';
import {
  RealtimeRequestError,
  ɵConnectionLost,
  ɵStopConnecting,
  type RealtimeError,
  type RealtimeErrorKind,
} from './errors';
import { isJwtExpired } from './jwt';

/** Connection state; see the state diagram in the README. */
export type RealtimeConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

/** One consistent view of the connection, emitted on every change. */
export interface RealtimeConnectionSnapshot {
  readonly state: RealtimeConnectionState;
  /** The retry in progress or scheduled (1-based); 0 while connected or before the first failure. */
  readonly attempt: number;
  /** Epoch ms of the next scheduled retry, or `null` when none is scheduled (show "reconnecting in 8 s"). */
  readonly nextRetryAt: number | null;
}

/** The gateway's acknowledgement of a `subscribe`/`unsubscribe`. */
export interface RealtimeRoomAck {
  readonly room: Room;
  /** Absent when the request was settled locally (nothing had to be sent). */
  readonly correlationId?: string;
}

type Frame = ParseResult<ServerMessage>;
type SocketEvent =
  | { readonly type: 'open'; readonly socket: WebSocketSubject<ClientMessage | Frame> }
  | { readonly type: 'frame'; readonly frame: Frame };
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

const ROOM_EVENT_TYPES: ReadonlySet<ServerMessageType> = new Set<RoomEventType>([
  'payment:updated',
  'session:sync',
  'notification:new',
  'system:broadcast',
]);

function isRoomEvent(message: ServerMessage): message is RoomEvent {
  return ROOM_EVENT_TYPES.has(message.type);
}

const INITIAL: RealtimeConnectionSnapshot = { state: 'disconnected', attempt: 0, nextRetryAt: null };

/**
 * The realtime connection of an application: one WebSocket to the gateway, typed streams of its
 * messages, room subscriptions that survive reconnects, and a retry policy built from RxJS operators.
 *
 * Provide it with `provideRealtime()`; inject it anywhere.
 */
@Injectable()
export class RealtimeService {
  private readonly config: ResolvedRealtimeConfig = inject(ɵREALTIME_CONFIG);
  private readonly WebSocketCtor = inject(ɵREALTIME_WEB_SOCKET_CTOR);
  private readonly random = inject(ɵREALTIME_RANDOM);
  private readonly isServer = isPlatformServer(inject(PLATFORM_ID));
  private readonly injector = inject(Injector);
  private readonly document = inject(DOCUMENT, { optional: true });
  private readonly online$: Observable<unknown> = inject(ɵREALTIME_ONLINE, { optional: true }) ?? this.browserOnline();

  private readonly snapshot = signal<RealtimeConnectionSnapshot>(INITIAL);
  private readonly snapshot$ = new BehaviorSubject<RealtimeConnectionSnapshot>(INITIAL);
  private readonly _lastError = signal<RealtimeError | null>(null);
  private readonly messagesSubject = new Subject<ServerMessage>();
  private readonly errorsSubject = new Subject<RealtimeError>();
  private readonly roomResults = new Subject<RoomResult>();

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
  private readonly _lastEventId = signal<string | null>(null);
  /**
   * Id of the newest room event received. After a reconnect the service sends `resume` with it,
   * and the gateway replays what the socket's rooms missed; events at or below it are dropped as duplicates.
   */
  readonly lastEventId: Signal<string | null> = this._lastEventId.asReadonly();

  private readonly appToken$ = new BehaviorSubject<string | null | undefined>(undefined);
  private refreshedToken: string | null = null;
  private tokenInUse: string | null = null;

  private connection: Subscription | null = null;
  private socket: WebSocketSubject<ClientMessage | Frame> | null = null;
  /** Failed attempts since the last successful open (the backoff position). */
  private failures = 0;
  private refreshedSinceOpen = false;
  /** The app wants a connection (connect() called, disconnect() not). */
  private wanted = false;
  private retryWhenOnline = false;

  private readonly queue: ClientMessage[] = [];
  private readonly explicitRooms = new Set<Room>();
  private readonly roomRefs = new Map<Room, number>();
  private readonly pending = new Map<string, PendingRequest>();
  private sequence = 0;

  constructor() {
    this.watchToken(this.injector);
    if (!this.isServer) {
      const onlineSub = this.online$.subscribe(() => {
        if (this.wanted && this.retryWhenOnline && !this.connection) this.start('connecting');
      });
      inject(DestroyRef).onDestroy(() => onlineSub.unsubscribe());
    }
    inject(DestroyRef).onDestroy(() => {
      this.disconnect();
      this.snapshot$.complete();
      this.messagesSubject.complete();
      this.errorsSubject.complete();
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
    this.wanted = true;
    if (this.isServer || this.connection) return;
    this.start('connecting');
  }

  /** Closes the connection (code 1000) and stops retrying. Pending `subscribe()` calls reject; the send queue is cleared. */
  disconnect(): void {
    this.wanted = false;
    this.retryWhenOnline = false;
    this.queue.length = 0;
    this.teardown();
    this.setSnapshot(INITIAL);
  }

  /** Drops the current connection (if any) and connects again with a fresh backoff schedule. */
  reconnect(): void {
    this.wanted = true;
    if (this.isServer) return;
    const wasOpen = this.snapshot().state !== 'disconnected';
    this.teardown();
    this.start(wasOpen ? 'reconnecting' : 'connecting');
  }

  /**
   * Sends a message now when connected, or queues it until the next connection.
   * Returns `false` when the message was refused: the queue (`sendQueueSize`, default 100) is full,
   * or this is the server platform. Queued messages are sent in order right after rooms are re-subscribed.
   * Use `subscribe()`/`room()` rather than sending `subscribe` messages yourself, so rooms survive reconnects.
   */
  send(message: ClientMessage): boolean {
    if (this.isServer) return false;
    if (this.socket && this.snapshot().state === 'connected') {
      this.socket.next(message);
      return true;
    }
    if (this.queue.length >= this.config.sendQueueSize) return false;
    this.queue.push(message);
    return true;
  }

  /**
   * Joins a room and keeps it joined across reconnects until `unsubscribe(room)`.
   * Resolves with the gateway's ack; rejects with a {@link RealtimeRequestError}
   * (`FORBIDDEN`, `BAD_REQUEST`, `TIMEOUT` or `DISCONNECTED`). While not connected it waits for the next connection.
   */
  subscribe(room: Room): Promise<RealtimeRoomAck> {
    const invalid = this.checkRoom(room);
    if (invalid) return Promise.reject(invalid);
    this.explicitRooms.add(room);
    return firstValueFrom(this.awaitRoom(room, 'subscribe', () => this.sendRoomRequest('subscribe', room)));
  }

  /** Leaves a room. Resolves at once (without a request) when `room()` still uses it or when not connected. */
  unsubscribe(room: Room): Promise<RealtimeRoomAck> {
    const invalid = this.checkRoom(room);
    if (invalid) return Promise.reject(invalid);
    this.explicitRooms.delete(room);
    if (this.refs(room) > 0 || !this.isOpen()) return Promise.resolve({ room });
    return firstValueFrom(this.awaitRoom(room, 'unsubscribe', () => this.sendRoomRequest('unsubscribe', room)));
  }

  /**
   * The room's events, subscribing to the room on the first subscriber and leaving it after the last.
   * Server frames do not name their room, so a `payment:<id>` room yields events about that payment,
   * and other rooms yield every room event. Errors with a {@link RealtimeRequestError} when the gateway refuses the room.
   */
  room(room: Room): Observable<RoomEvent> {
    return new Observable<RoomEvent>((subscriber) => {
      const invalid = this.checkRoom(room);
      if (invalid) {
        subscriber.error(invalid);
        return undefined;
      }
      const subscription = new Subscription();
      subscription.add(
        this.roomResults
          .pipe(filter((r) => r.room === room && r.action === 'subscribe' && r.error !== undefined))
          .subscribe((r) => {
            if (r.error && (r.error.code === 'FORBIDDEN' || r.error.code === 'BAD_REQUEST')) subscriber.error(r.error);
          }),
      );
      const parsed = parseRoom(room);
      const matches =
        parsed?.kind === 'payment'
          ? (e: RoomEvent) => 'paymentId' in e.payload && e.payload.paymentId === parsed.paymentId
          : () => true;
      subscription.add(
        this.messages$.pipe(filter(isRoomEvent), filter(matches)).subscribe((event) => subscriber.next(event)),
      );
      const count = this.refs(room) + 1;
      this.roomRefs.set(room, count);
      if (count === 1 && !this.explicitRooms.has(room) && this.isOpen()) this.sendRoomRequest('subscribe', room);
      return () => {
        subscription.unsubscribe();
        const left = this.refs(room) - 1;
        if (left > 0) {
          this.roomRefs.set(room, left);
          return;
        }
        this.roomRefs.delete(room);
        if (!this.explicitRooms.has(room) && this.isOpen()) this.sendRoomRequest('unsubscribe', room);
      };
    });
  }

  // ------------------------------------------------------------------ connection loop

  private start(initial: 'connecting' | 'reconnecting'): void {
    this.failures = 0;
    this.refreshedSinceOpen = false;
    this.retryWhenOnline = false;
    this.setSnapshot({ state: initial, attempt: 0, nextRetryAt: null });
    const connection = new Subscription();
    this.connection = connection;
    connection.add(
      defer(() => this.currentToken())
        .pipe(
          switchMap((token) => this.openSocket(token)),
          // A socket attempt always ends in an error (clean closes are turned into errors in openSocket),
          // so this single operator is the whole reconnection policy: retryDelay decides wait, refresh or stop.
          retry({ delay: (error: unknown) => this.retryDelay(error) }),
        )
        .subscribe({
          next: (event) => this.handleSocketEvent(event),
          error: (error: unknown) => this.stopWith(error),
        }),
    );
  }

  private currentToken(): Observable<string> {
    if (this.refreshedToken) return this.useToken(this.refreshedToken);
    return this.appToken$.pipe(
      filter((t): t is string => typeof t === 'string' && t.length > 0),
      take(1),
      switchMap((t) => this.useToken(t)),
    );
  }

  private useToken(token: string): Observable<string> {
    this.tokenInUse = token;
    return new Observable<string>((s) => {
      s.next(token);
      s.complete();
    });
  }

  /** One socket attempt. Emits `open` and frames; always ends with a {@link ɵConnectionLost} error. */
  private openSocket(token: string): Observable<SocketEvent> {
    return new Observable<SocketEvent>((subscriber) => {
      if (!this.WebSocketCtor) {
        subscriber.error(new ɵConnectionLost(false, 1006, 'no WebSocket implementation', token));
        return undefined;
      }
      let opened = false;
      let active = true;
      let closeEvent: CloseEvent | null = null;
      const frames = new Subject<void>();
      const lost = (fallbackCode: number, reason = '') =>
        new ɵConnectionLost(opened, closeEvent?.code ?? fallbackCode, closeEvent?.reason ?? reason, token);
      const useQuery = this.config.tokenTransport === 'query';
      const subject: WebSocketSubject<ClientMessage | Frame> = webSocket<ClientMessage | Frame>({
        url: this.socketUrl(useQuery ? token : null, this._lastEventId()),
        protocol: useQuery ? undefined : [BEARER_SUBPROTOCOL, token],
        WebSocketCtor: this.WebSocketCtor,
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
            subscriber.next({ type: 'open', socket: subject });
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
      const heartbeat = this.config.heartbeat;
      if (heartbeat) {
        subscription.add(
          interval(heartbeat.intervalMs)
            .pipe(
              filter(() => opened),
              exhaustMap(() => {
                subject.next({ type: 'ping', correlationId: this.nextId('ping') });
                return frames.pipe(
                  take(1),
                  timeout({ first: heartbeat.timeoutMs, with: () => throwError(() => lost(1006, 'heartbeat timeout')) }),
                );
              }),
            )
            .subscribe({ error: (error: unknown) => subscriber.error(error) }),
        );
      }
      return () => {
        active = false;
        if (this.socket === subject) this.socket = null;
        subscription.unsubscribe();
      };
    });
  }

  private retryDelay(error: unknown): Observable<unknown> {
    this.socket = null;
    this.clearPending();
    if (!(error instanceof ɵConnectionLost)) {
      return throwError(() => this.stop('network', error instanceof Error ? error.message : String(error), true));
    }
    const { code, opened, token } = error;
    const expiredHandshake = !opened && code === 1006 && isJwtExpired(token, asyncScheduler.now());
    const advice = expiredHandshake ? 'refresh-token' : closeAdvice(code);

    if (advice === 'refresh-token') {
      return this.refresh(code, expiredHandshake);
    }
    if (advice === 'stop') {
      const kind: RealtimeErrorKind = code === CloseCode.SessionRevoked ? 'auth' : 'closed-by-server';
      return throwError(() => this.stop(kind, `${error.message}: not reconnecting`, false, code));
    }
    const kind: RealtimeErrorKind = opened && code !== 1006 && code !== 1005 ? 'closed-by-server' : 'network';
    const reconnect = this.config.reconnect;
    const attempt = ++this.failures;
    if (!reconnect || attempt > reconnect.maxAttempts) {
      const tries = reconnect ? reconnect.maxAttempts : 0;
      return throwError(() => this.stop(kind, `gave up after ${tries} attempts: ${error.message}`, true, code));
    }
    this.report({ kind, message: error.message, closeCode: code, at: asyncScheduler.now() });
    const delay = backoffDelay(attempt, reconnect.delaysMs, reconnect.jitter, this.random);
    this.setSnapshot({ state: 'reconnecting', attempt, nextRetryAt: asyncScheduler.now() + delay });
    return race(timer(delay), this.online$).pipe(
      take(1),
      tap(() => this.setSnapshot({ state: 'reconnecting', attempt, nextRetryAt: null })),
    );
  }

  /** Token expired: get a new one and retry at once, without spending a backoff attempt. */
  private refresh(code: number, expiredHandshake: boolean): Observable<unknown> {
    const what = expiredHandshake ? 'handshake refused with an expired token' : 'token expired (4001)';
    const refreshToken = this.config.refreshToken;
    if (!refreshToken) {
      return throwError(() => this.stop('auth', `${what} and no refreshToken is configured`, false, code));
    }
    if (this.refreshedSinceOpen) {
      return throwError(() => this.stop('auth', `${what} again right after a refresh`, false, code));
    }
    this.refreshedSinceOpen = true;
    this.setSnapshot({ state: 'reconnecting', attempt: this.failures, nextRetryAt: null });
    return defer(() => {
      const result = runInInjectionContext(this.injector, refreshToken);
      return isObservable(result) ? result.pipe(take(1)) : from(result);
    }).pipe(
      throwIfEmpty(() => new Error('refreshToken completed without a token')),
      catchError((e: unknown) =>
        throwError(() =>
          this.stop('auth', `token refresh failed: ${e instanceof Error ? e.message : String(e)}`, false, code),
        ),
      ),
      switchMap((token) =>
        typeof token === 'string' && token.length > 0
          ? [token]
          : throwError(() => this.stop('auth', 'token refresh returned no token', false, code)),
      ),
      tap((token) => (this.refreshedToken = token)),
    );
  }

  private stop(kind: RealtimeErrorKind, message: string, retryWhenOnline: boolean, closeCode?: number): ɵStopConnecting {
    const error: RealtimeError =
      closeCode === undefined
        ? { kind, message, at: asyncScheduler.now() }
        : { kind, message, closeCode, at: asyncScheduler.now() };
    return new ɵStopConnecting(error, retryWhenOnline);
  }

  private stopWith(error: unknown): void {
    const stop =
      error instanceof ɵStopConnecting
        ? error
        : this.stop('network', error instanceof Error ? error.message : String(error), true);
    this.teardown();
    this.retryWhenOnline = stop.retryWhenOnline;
    this.setSnapshot(INITIAL);
    this.report(stop.error);
  }

  /** Ends the current connection attempt and everything tied to it (not the app's rooms or queue). */
  private teardown(): void {
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.error({ code: CloseCode.Normal, reason: 'client disconnect' });
    this.connection?.unsubscribe();
    this.connection = null;
    this.clearPending();
  }

  private handleSocketEvent(event: SocketEvent): void {
    if (event.type === 'open') {
      this.socket = event.socket;
      this.failures = 0;
      this.refreshedSinceOpen = false;
      this._lastError.set(null);
      this.setSnapshot({ state: 'connected', attempt: 0, nextRetryAt: null });
      for (const room of new Set([...this.explicitRooms, ...this.roomRefs.keys()])) {
        this.sendRoomRequest('subscribe', room);
      }
      // After the rooms, so the gateway replays for all of them; answered by `resumed` or `recovery:failed`.
      const since = this._lastEventId();
      if (since !== null) event.socket.next({ type: 'resume', payload: { since }, correlationId: this.nextId('resume') });
      for (const message of this.queue.splice(0)) event.socket.next(message);
      return;
    }
    const { frame } = event;
    if (!frame.ok) {
      this.report({ kind: 'protocol', message: `malformed server message: ${frame.error}`, at: asyncScheduler.now() });
      return;
    }
    const message = frame.value;
    if (isRoomEvent(message) && message.id !== undefined) {
      const last = this._lastEventId();
      // Ids are totally ordered per socket: anything not newer was already seen (a replay overlapping live delivery).
      if (last !== null && compareEventIds(message.id, last) <= 0) return;
      this._lastEventId.set(message.id);
    }
    if (message.correlationId !== undefined) this.settle(message.correlationId, message);
    this.messagesSubject.next(message);
  }

  // ------------------------------------------------------------------ rooms

  private awaitRoom(room: Room, action: RoomAction, sendNow: () => void): Observable<RealtimeRoomAck> {
    return new Observable<RealtimeRoomAck>((subscriber) => {
      const subscription = merge(
        this.roomResults.pipe(filter((r) => r.room === room && r.action === action)),
        this.state$.pipe(
          skip(1),
          filter((s) => s === 'disconnected'),
          map((): RoomResult => ({
            room,
            action,
            error: new RealtimeRequestError('DISCONNECTED', `${action} ${room}: the connection was closed`, room),
          })),
        ),
      )
        .pipe(take(1))
        .subscribe((result) => {
          if (result.error) subscriber.error(result.error);
          else if (result.ack) {
            subscriber.next(result.ack);
            subscriber.complete();
          }
        });
      if (this.isServer) {
        subscriber.error(new RealtimeRequestError('DISCONNECTED', 'no WebSocket on the server platform', room));
      } else if (this.isOpen()) {
        sendNow();
      } else if (!this.connection) {
        subscriber.error(new RealtimeRequestError('DISCONNECTED', `${action} ${room}: not connected; call connect()`, room));
      }
      return subscription;
    });
  }

  private sendRoomRequest(action: RoomAction, room: Room): void {
    const socket = this.socket;
    if (!socket) return;
    const correlationId = this.nextId(action === 'subscribe' ? 'sub' : 'unsub');
    const timeoutSub = timer(this.config.requestTimeoutMs).subscribe(() => {
      if (!this.pending.delete(correlationId)) return;
      const error = new RealtimeRequestError(
        'TIMEOUT',
        `${action} ${room}: no reply within ${this.config.requestTimeoutMs} ms`,
        room,
      );
      this.roomResults.next({ room, action, error });
    });
    this.pending.set(correlationId, { room, action, timer: timeoutSub });
    socket.next({ type: action, payload: { room }, correlationId, timestamp: new Date(asyncScheduler.now()).toISOString() });
  }

  private settle(correlationId: string, message: ServerMessage): void {
    const request = this.pending.get(correlationId);
    if (!request) return;
    const { room, action } = request;
    if (message.type === 'subscribed' || message.type === 'unsubscribed') {
      this.pending.delete(correlationId);
      request.timer.unsubscribe();
      this.roomResults.next({ room, action, ack: { room: message.payload.room, correlationId } });
    } else if (message.type === 'error') {
      this.pending.delete(correlationId);
      request.timer.unsubscribe();
      if (action === 'subscribe') this.explicitRooms.delete(room); // refused: do not re-request it on every reconnect
      const error = new RealtimeRequestError(message.payload.code, message.payload.message, room);
      this.roomResults.next({ room, action, error });
    }
  }

  private clearPending(): void {
    for (const request of this.pending.values()) request.timer.unsubscribe();
    this.pending.clear();
  }

  private checkRoom(room: string): RealtimeRequestError | null {
    return isRoom(room) ? null : new RealtimeRequestError('BAD_REQUEST', `not a room name: ${JSON.stringify(room)}`, room);
  }

  private refs(room: Room): number {
    return this.roomRefs.get(room) ?? 0;
  }

  // ------------------------------------------------------------------ helpers

  private isOpen(): boolean {
    return this.socket !== null && this.snapshot().state === 'connected';
  }

  private setSnapshot(next: RealtimeConnectionSnapshot): void {
    const current = this.snapshot();
    if (current.state === next.state && current.attempt === next.attempt && current.nextRetryAt === next.nextRetryAt) {
      return;
    }
    this.snapshot.set(next);
    this.snapshot$.next(next);
  }

  private report(error: RealtimeError): void {
    this._lastError.set(error);
    this.errorsSubject.next(error);
  }

  private nextId(prefix: string): string {
    return `${prefix}-${++this.sequence}-${Math.floor(this.random() * 1e9).toString(36)}`;
  }

  /**
   * The socket URL for one attempt. `since` (the last event id, not a secret) tells the gateway at the
   * handshake that this socket will resume, so it holds live events until the replay: none can overtake it.
   */
  private socketUrl(queryToken: string | null, since: string | null): string {
    let url = this.config.url;
    if (url.startsWith('/')) {
      const location = this.document?.location;
      const scheme = location?.protocol === 'https:' ? 'wss' : 'ws';
      url = `${scheme}://${location?.host ?? 'localhost'}${url}`;
    }
    const params: string[] = [];
    if (since !== null) params.push(`${SINCE_QUERY_PARAM}=${encodeURIComponent(since)}`);
    if (queryToken !== null) params.push(`${TOKEN_QUERY_PARAM}=${encodeURIComponent(queryToken)}`);
    if (params.length === 0) return url;
    return `${url}${url.includes('?') ? '&' : '?'}${params.join('&')}`;
  }

  private browserOnline(): Observable<unknown> {
    const view = this.document?.defaultView;
    return !this.isServer && view ? fromEvent(view, 'online') : NEVER;
  }

  /** Feeds the app's token source into `appToken$` and reconnects when it changes. */
  private watchToken(injector: Injector): void {
    const given = this.config.token;
    const source: RealtimeTokenValue =
      typeof given === 'function' && !isSignal(given) ? runInInjectionContext(injector, given) : given;
    if (typeof source === 'string') {
      this.appToken$.next(source);
    } else if (isSignal(source)) {
      this.appToken$.next(untracked(source));
      effect(
        () => {
          const value = source();
          untracked(() => this.appToken$.next(value));
        },
        { injector },
      );
    } else if (isObservable(source)) {
      const sub = source.subscribe((value) => this.appToken$.next(value));
      injector.get(DestroyRef).onDestroy(() => sub.unsubscribe());
    }
    const changes = this.appToken$
      .pipe(
        distinctUntilChanged(),
        skip(1),
        switchMap((token) => (token === undefined ? EMPTY : [token])),
      )
      .subscribe((token) => this.onAppTokenChanged(token));
    injector.get(DestroyRef).onDestroy(() => changes.unsubscribe());
  }

  private onAppTokenChanged(token: string | null): void {
    this.refreshedToken = null;
    if (this.isServer || !this.wanted) return;
    if (!token) {
      // Logged out: close, but connect again by itself when a token arrives.
      this.teardown();
      this.setSnapshot(INITIAL);
      return;
    }
    if (token === this.tokenInUse && this.connection) return; // e.g. the app stored the token we just refreshed
    this.reconnect();
  }
}
