import { Injectable, makeEnvironmentProviders, type EnvironmentProviders } from '@angular/core';
import {
  ɵNO_SHARED_TABS,
  ɵREALTIME_HANDSHAKE_CHECK,
  ɵREALTIME_ONLINE,
  ɵREALTIME_RANDOM,
  ɵREALTIME_WEB_SOCKET_CTOR,
  ɵSHARED_TABS_ENVIRONMENT,
  type ɵHandshakeCheck,
  type WebSocketConstructor,
} from '@payments-system/realtime';
import { of, Subject, type Observable } from 'rxjs';
import { FakeWebSocket } from './fake-web-socket';

/**
 * Controls the fake sockets of a test: each connection attempt of `RealtimeService` creates one
 * {@link FakeWebSocket}, and the test plays the gateway on it.
 */
@Injectable()
export class RealtimeTestingController {
  /** Every socket created, oldest first. */
  readonly sockets: FakeWebSocket[] = [];
  /** Jitter randomness: `random()` returns this (default 0.5). */
  randomValue = 0.5;
  private readonly online = new Subject<void>();
  private readonly createdSubject = new Subject<FakeWebSocket>();
  /** Emits each socket as it is created (its handlers are attached right after: act on it asynchronously). */
  readonly created: Observable<FakeWebSocket> = this.createdSubject.asObservable();
  /** @internal */
  readonly ɵonline$ = this.online.asObservable();

  /** @internal */
  readonly ɵctor: WebSocketConstructor = (() => {
    const sockets = this.sockets;
    const created = this.createdSubject;
    return class extends FakeWebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        sockets.push(this);
        created.next(this);
      }
    } as unknown as WebSocketConstructor;
  })();

  /**
   * @internal The gateway's handshake check, answered from the socket that just failed: `refuse(401)` → refused,
   * `refuse(other)` → accepted, `drop()` → no answer. Synchronous, so virtual time needs no flushing.
   */
  readonly ɵcheckHandshake: ɵHandshakeCheck = () => {
    const status = this.sockets[this.sockets.length - 1]?.refusedWith ?? null;
    return of(status === null ? 'unknown' : status === 401 ? 'refused' : 'accepted');
  };

  /** The most recent socket; throws when none was created. */
  get latest(): FakeWebSocket {
    const socket = this.sockets[this.sockets.length - 1];
    if (!socket) throw new Error('RealtimeTestingController: no socket was created');
    return socket;
  }

  /** Fires the browser's `online` event. */
  goOnline(): void {
    this.online.next();
  }

  /** Fails when a socket other than the latest is still open (a leaked connection). */
  verify(): void {
    const leaked = this.sockets.slice(0, -1).filter((s) => s.readyState === FakeWebSocket.OPEN);
    if (leaked.length > 0) throw new Error(`RealtimeTestingController: ${leaked.length} earlier socket(s) still open`);
  }
}

/**
 * Replaces the WebSocket of `provideRealtime()` with {@link FakeWebSocket}s driven by
 * {@link RealtimeTestingController}; also makes jitter and the `online` event controllable.
 * With `withSharedConnection()`, each service under test still gets a fake socket of its own, at once: no other tab
 * of the browser running the tests takes part. Add it after `provideRealtime(...)`.
 */
export function provideRealtimeTesting(): EnvironmentProviders {
  return makeEnvironmentProviders([
    RealtimeTestingController,
    { provide: ɵSHARED_TABS_ENVIRONMENT, useValue: ɵNO_SHARED_TABS },
    { provide: ɵREALTIME_WEB_SOCKET_CTOR, useFactory: (c: RealtimeTestingController) => c.ɵctor, deps: [RealtimeTestingController] },
    {
      provide: ɵREALTIME_RANDOM,
      useFactory: (c: RealtimeTestingController) => () => c.randomValue,
      deps: [RealtimeTestingController],
    },
    { provide: ɵREALTIME_ONLINE, useFactory: (c: RealtimeTestingController) => c.ɵonline$, deps: [RealtimeTestingController] },
    {
      provide: ɵREALTIME_HANDSHAKE_CHECK,
      useFactory: (c: RealtimeTestingController) => c.ɵcheckHandshake,
      deps: [RealtimeTestingController],
    },
  ]);
}
