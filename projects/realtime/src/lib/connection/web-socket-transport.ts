/**
 * The default connection owner: one WebSocket at a time, retried by the {@link decideAfterEnding} policy, its
 * state kept by the {@link ConnectionStateMachine}.
 *
 * The connection loop is one RxJS chain: token → socket attempt → `retry`, whose delay is the policy's decision
 * (wait, refresh the token, or stop). Each socket ends in its attempt's teardown; the loop itself ends only in
 * {@link WebSocketTransport.end}: disconnect(), a logout, reconnect(), a final decision and destroy() all go
 * through it.
 */
import { assertNever, BEARER_SUBPROTOCOL, CloseCode, type ClientMessage, type ServerMessage } from '@payments-system/protocol';
import { asyncScheduler, catchError, defer, of, race, retry, Subject, Subscription, switchMap, take, tap, throwError, timeout, timer, type Observable } from 'rxjs';
import type { ResolvedRealtimeConfig, WebSocketConstructor } from '../config';
import { correlationIds } from '../correlation-ids';
import type { RealtimeError } from '../errors';
import { CONNECTED, CONNECTING, ConnectionStateMachine, DISCONNECTED, reconnecting, type RealtimeConnectionSnapshot } from './connection-state';
import type { HandshakeCheck, HandshakeVerdict } from './handshake-check';
import { inBandRefresh, type InBandOutcome } from './in-band-refresh';
import {
  decideAfterEnding,
  decideAfterError,
  decideAfterRefreshError,
  decideAfterRefreshRefused,
  shouldCheckHandshake,
  type ConnectionEnding,
  type RetryDecision,
  type StopDecision,
} from './retry-policy';
import { ConnectionLost, openSocket, type OpenSocket, type SocketEvent } from './socket-attempt';
import { socketUrl, type PageLocation } from './socket-url';
import type { TokenChange, TokenSource } from './token-source';
import type { RealtimeTransport, RealtimeTransportEvent, RealtimeTransportLink } from './transport';

export interface WebSocketTransportDeps {
  readonly config: ResolvedRealtimeConfig;
  readonly tokens: TokenSource;
  readonly WebSocketCtor: WebSocketConstructor | null;
  /** Jitter and correlation-id randomness, as `Math.random`. */
  readonly random: () => number;
  /** The browser's `online` event: cuts a backoff wait short, and restarts after giving up for network reasons. */
  readonly online$: Observable<unknown>;
  /** The page's location, to resolve a relative URL. */
  readonly location: PageLocation | null;
  /** Asks the gateway whether it refuses a token, after a failed handshake the token's `exp` does not explain. */
  readonly checkHandshake: HandshakeCheck;
}

/** How the loop ends: start again in a state, or stop in `disconnected`. */
type Ending =
  | { readonly then: 'restart'; readonly state: 'connecting' | 'reconnecting' }
  | { readonly then: 'stop'; readonly retryWhenOnline: boolean; readonly error?: RealtimeError; readonly handOver?: boolean };

/** Carries a stop decision through the loop's error channel to {@link WebSocketTransport.end}. */
class StopConnecting extends Error {
  constructor(readonly decision: StopDecision) {
    super(decision.error.message);
  }
}

export class WebSocketTransport implements RealtimeTransport {
  private readonly machine = new ConnectionStateMachine();
  private readonly subject = new Subject<RealtimeTransportEvent>();
  readonly events$: Observable<RealtimeTransportEvent> = this.subject.asObservable();
  private readonly nextId: (prefix: string) => string;
  private readonly subscriptions = new Subscription();

  /** The running connection loop, or `null` when stopped. */
  private loop: Subscription | null = null;
  private socket: OpenSocket | null = null;
  /** The token of the latest attempt, and, once its socket is open, the token it is authenticated with. */
  private socketToken: string | null = null;
  /** The in-band refresh of the open socket. */
  private inBand: Subscription | null = null;
  /** A token `refreshToken` gave for the open socket, being sent in-band: the app storing it reconnects nothing. */
  private inBandToken: string | null = null;
  /** The open socket's server messages, for the in-band refresh. */
  private readonly socketMessages = new Subject<ServerMessage>();
  /** Failed attempts since the last open (the backoff position). */
  private failures = 0;
  private refreshedSinceOpen = false;
  /** The app wants a connection (connect() called, disconnect() not). */
  private wanted = false;
  private retryWhenOnline = false;

  constructor(
    private readonly deps: WebSocketTransportDeps,
    private readonly link: RealtimeTransportLink,
  ) {
    this.nextId = correlationIds(deps.random);
    this.subscriptions.add(deps.tokens.changes$.subscribe((change) => this.onTokenChanged(change)));
    this.subscriptions.add(
      deps.online$.subscribe(() => {
        if (this.wanted && this.retryWhenOnline && !this.loop) this.start('connecting');
      }),
    );
  }

  get snapshot(): RealtimeConnectionSnapshot {
    return this.machine.snapshot;
  }

  connect(): void {
    this.wanted = true;
    if (!this.loop) this.start('connecting');
  }

  reconnect(): void {
    this.wanted = true;
    this.end({ then: 'restart', state: this.machine.state === 'disconnected' ? 'connecting' : 'reconnecting' });
  }

  disconnect(): void {
    this.wanted = false;
    this.end({ then: 'stop', retryWhenOnline: false });
  }

  write(message: ClientMessage): boolean {
    if (!this.socket) return false;
    this.socket.send(message);
    return true;
  }

  destroy(handOver = false): void {
    this.wanted = false;
    this.end({ then: 'stop', retryWhenOnline: false, handOver });
    this.socketMessages.complete();
    this.subscriptions.unsubscribe();
    this.machine.complete();
    this.subject.complete();
  }

  /** The one teardown path: closes the socket (1000), ends the loop, then restarts or stops. */
  private end(ending: Ending): void {
    const socket = this.socket;
    this.socket = null;
    this.stopInBand();
    socket?.close(ending.then === 'stop' && ending.handOver ? CloseCode.HandOver : CloseCode.Normal, 'client disconnect');
    this.loop?.unsubscribe();
    this.loop = null;
    switch (ending.then) {
      case 'restart':
        this.start(ending.state);
        return;
      case 'stop':
        this.retryWhenOnline = ending.retryWhenOnline;
        this.setState(DISCONNECTED);
        if (ending.error) this.emit({ type: 'error', error: ending.error });
        return;
      default:
        assertNever(ending, 'ending');
    }
  }

  private start(initial: 'connecting' | 'reconnecting'): void {
    this.failures = 0;
    this.refreshedSinceOpen = false;
    this.retryWhenOnline = false;
    this.setState(initial === 'connecting' ? CONNECTING : reconnecting(0));
    // Assigned before subscribing: an attempt may end synchronously, and end() must find (and clear) it.
    const loop = new Subscription();
    this.loop = loop;
    loop.add(
      defer(() => this.deps.tokens.next())
        .pipe(
          switchMap((token) => this.attempt(token)),
          retry({ delay: (error: unknown) => this.afterEnding(error) }),
        )
        .subscribe({
          next: (event) => this.onSocketEvent(event),
          error: (error: unknown) => {
            const decision = error instanceof StopConnecting ? error.decision : decideAfterError(error, this.now());
            this.end({ then: 'stop', retryWhenOnline: decision.retryWhenOnline, error: decision.error });
          },
        }),
    );
  }

  private attempt(token: string): Observable<SocketEvent> {
    const { config } = this.deps;
    this.socketToken = token;
    const inQuery = config.tokenTransport === 'query';
    return openSocket({
      url: socketUrl(config.url, this.deps.location, inQuery ? token : null, this.link.resumePoint()),
      protocols: inQuery ? undefined : [BEARER_SUBPROTOCOL, token],
      token,
      WebSocketCtor: this.deps.WebSocketCtor,
      heartbeat: config.heartbeat,
      nextId: this.nextId,
    });
  }

  private onSocketEvent(event: SocketEvent): void {
    switch (event.type) {
      case 'open':
        this.socket = event.socket;
        this.failures = 0;
        this.refreshedSinceOpen = false;
        this.emit({ type: 'open' });
        this.setState(CONNECTED);
        this.startInBand();
        return;
      case 'frame':
        if (event.frame.ok) {
          this.socketMessages.next(event.frame.value);
          this.emit({ type: 'message', message: event.frame.value });
        } else {
          const message = `malformed server message: ${event.frame.error}`;
          this.emit({ type: 'error', error: { kind: 'protocol', message, at: this.now() } });
        }
        return;
      default:
        assertNever(event, 'socket event');
    }
  }

  /** The attempt ended: the policy decides; the returned observable's first value starts the next attempt. */
  private afterEnding(error: unknown): Observable<unknown> {
    this.socket = null;
    this.stopInBand();
    if (!(error instanceof ConnectionLost)) return stopWith(decideAfterError(error, this.now()));
    // An open socket may have renewed its token in-band: that token is the one a refresh replaces.
    const token = error.opened ? (this.socketToken ?? error.token) : error.token;
    const ending: ConnectionEnding = { opened: error.opened, code: error.code, reason: error.reason, token };
    if (!shouldCheckHandshake(ending, this.now())) return this.apply(decideAfterEnding(ending, this.retryContext()), ending.token);
    // A failed handshake with a live token: a refusal (401) or an outage? Only the gateway's answer tells.
    const checkUrl = socketUrl(this.deps.config.url, this.deps.location, null, null);
    return this.deps.checkHandshake(checkUrl, ending.token).pipe(
      timeout({ first: this.deps.config.requestTimeoutMs, with: () => of<HandshakeVerdict>('unknown') }),
      take(1),
      switchMap((verdict) => this.apply(decideAfterEnding({ ...ending, tokenRefused: verdict === 'refused' }, this.retryContext()), ending.token)),
    );
  }

  /** Carries out a decision; `staleToken` is the token the ended attempt used (what a refresh replaces). */
  private apply(decision: RetryDecision, staleToken: string): Observable<unknown> {
    switch (decision.action) {
      case 'wait': {
        const { attempt, delayMs } = decision;
        this.failures = attempt;
        this.emit({ type: 'error', error: decision.error });
        this.setState(reconnecting(attempt, this.now() + delayMs));
        return race(timer(delayMs), this.deps.online$).pipe(
          take(1),
          tap(() => this.setState(reconnecting(attempt, null))),
        );
      }
      case 'refresh-token':
        this.setState(reconnecting(this.failures));
        return this.deps.tokens.refresh(staleToken).pipe(
          switchMap((token) => {
            if (token === null) return stopWith(decideAfterRefreshRefused(decision.closeCode, this.now()));
            this.refreshedSinceOpen = true; // a second refusal right after this refresh stops instead of looping
            return of(token);
          }),
          catchError((cause: unknown) =>
            cause instanceof StopConnecting ? throwError(() => cause) : this.apply(decideAfterRefreshError(cause, this.retryContext()), staleToken),
          ),
        );
      case 'stop':
        return stopWith(decision);
      default:
        return assertNever(decision, 'retry decision');
    }
  }

  /** Plans the in-band refreshes of the socket that just opened (with `refreshToken` and `tokenRefresh` on). */
  private startInBand(): void {
    const { config, tokens } = this.deps;
    const token = this.socketToken;
    if (!config.tokenRefresh || !tokens.canRefresh || token === null) return;
    this.inBand = inBandRefresh(token, config.tokenRefresh, config.requestTimeoutMs, {
      write: (message) => this.socket?.send(message),
      refresh: (stale) => tokens.refresh(stale).pipe(tap((fresh) => (this.inBandToken = fresh))),
      messages$: this.socketMessages,
      nextId: this.nextId,
      random: this.deps.random,
      now: () => this.now(),
    }).subscribe((outcome) => this.onInBand(outcome));
  }

  private stopInBand(): void {
    this.inBand?.unsubscribe();
    this.inBand = null;
    this.inBandToken = null;
  }

  private onInBand(outcome: InBandOutcome): void {
    this.inBandToken = null;
    switch (outcome.type) {
      case 'renewed':
        this.socketToken = outcome.token;
        this.deps.tokens.renewed(outcome.token);
        return;
      case 'unsupported':
        // A gateway that does not know `auth`: the old way, at once, with the new token (`refresh` kept it).
        this.reconnect();
        return;
      case 'refused':
        this.emit({ type: 'error', error: outcome.error });
        return;
      case 'session-over':
        return; // the app signs out (its token becomes empty), or the 4001 to come asks again
      default:
        assertNever(outcome, 'in-band outcome');
    }
  }

  private retryContext() {
    return {
      failures: this.failures,
      refreshedSinceOpen: this.refreshedSinceOpen,
      canRefresh: this.deps.tokens.canRefresh,
      reconnect: this.deps.config.reconnect,
      random: this.deps.random,
      now: this.now(),
    };
  }

  private onTokenChanged({ token, sessionEnded }: TokenChange): void {
    // First, so that the facade forgets the session's resume position before any socket of the next one opens.
    if (sessionEnded) this.emit({ type: 'session-ended' });
    if (!this.wanted) return;
    // Logged out: close, but connect again by itself when a token arrives.
    if (!token) return this.end({ then: 'stop', retryWhenOnline: false });
    // The attempt waiting for a token takes this one; nothing to restart.
    if (this.deps.tokens.waiting) return;
    // E.g. the app stored the token we just refreshed (after a 4001, or in-band: sent, or already accepted).
    if ((token === this.deps.tokens.inUse || token === this.inBandToken) && this.loop) return;
    this.reconnect();
  }

  private setState(next: RealtimeConnectionSnapshot): void {
    if (this.machine.transition(next)) this.emit({ type: 'state', snapshot: next });
  }

  private emit(event: RealtimeTransportEvent): void {
    this.subject.next(event);
  }

  private now(): number {
    return asyncScheduler.now();
  }
}

function stopWith(decision: StopDecision): Observable<never> {
  return throwError(() => new StopConnecting(decision));
}
