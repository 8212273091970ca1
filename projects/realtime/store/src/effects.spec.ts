import { Injector } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { Actions } from '@ngrx/effects';
import { provideMockActions } from '@ngrx/effects/testing';
import { Action } from '@ngrx/store';
import type { ServerMessage } from '@payments-system/protocol';
import { firstValueFrom, Observable, ReplaySubject, Subject, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { paymentUpdated, TS } from '../../src/spec-helpers/server-messages';
import { RealtimeRequestError, RealtimeService, type RealtimeConnectionSnapshot, type RealtimeError } from '@payments-system/realtime';
import {
  RealtimeConnectionActions,
  RealtimeNotificationsActions,
  RealtimePaymentsActions,
  RealtimeRoomsActions,
  RealtimeSessionActions,
} from './actions';
import { realtimeConnectionFeature } from './connection.feature';
import {
  connectionErrors$,
  connectionState$,
  disconnectOnLogout$,
  notifications$,
  paymentUpdated$,
  recovery$,
  reloadPaymentsAfterFailedRecovery$,
  sessionLogout$,
  watchRoom$,
} from './effects';
import { realtimePaymentsFeature } from './payments.feature';

/** The part of RealtimeService the effects use, driven by subjects. */
function fakeRealtime() {
  const messages = new Subject<ServerMessage>();
  const fake = {
    messages$: messages.asObservable(),
    connection$: new Subject<RealtimeConnectionSnapshot>(),
    errors$: new Subject<RealtimeError>(),
    on: (type: string) => new Observable((s) => messages.subscribe((m) => m.type === type && s.next(m))),
    subscribe: jasmine.createSpy('subscribe'),
    unsubscribe: jasmine.createSpy('unsubscribe'),
    disconnect: jasmine.createSpy('disconnect'),
  };
  return { fake, service: fake as unknown as RealtimeService, messages };
}

describe('realtime effects (called as plain functions)', () => {
  it('maps payment:updated to Payment Updated with the event id', () => {
    const { service, messages } = fakeRealtime();
    const out: Action[] = [];
    paymentUpdated$(service, () => Date.parse(TS)).subscribe((a) => out.push(a));
    messages.next(paymentUpdated('p1', 'completed', '1765447200000-7'));
    messages.next({ type: 'pong', payload: {}, timestamp: TS });
    expect(out).toEqual([
      RealtimePaymentsActions.paymentUpdated({
        payment: { paymentId: 'p1', status: 'completed', amount: '100.00', currency: 'EUR' },
        eventId: '1765447200000-7',
        receivedAt: TS,
      }),
    ]);
  });

  it("maps session:sync with action 'logout' to Logout Requested", () => {
    const { service, messages } = fakeRealtime();
    const out: Action[] = [];
    sessionLogout$(service).subscribe((a) => out.push(a));
    const session = { userId: 'u1', sessionId: 's1', action: 'logout' as const };
    messages.next({ type: 'session:sync', payload: session, timestamp: TS });
    expect(out).toEqual([RealtimeSessionActions.logoutRequested({ session })]);
  });

  it('maps notification:new and system:broadcast to actions the app can show', () => {
    const { service, messages } = fakeRealtime();
    const out: Action[] = [];
    notifications$(service).subscribe((a) => out.push(a));
    const notification = { notificationId: 'n1', level: 'success' as const, title: 'Paid', message: 'Payment p1 completed' };
    messages.next({ type: 'notification:new', payload: notification, timestamp: TS });
    messages.next(paymentUpdated('p1'));
    messages.next({ type: 'system:broadcast', payload: { message: 'maintenance', level: 'warning' }, timestamp: TS });
    expect(out).toEqual([
      RealtimeNotificationsActions.notificationReceived({ notification }),
      RealtimeNotificationsActions.broadcastReceived({ broadcast: { message: 'maintenance', level: 'warning' } }),
    ]);
  });

  it('maps connection snapshots and errors to connection actions (marbles)', () => {
    new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(({ cold, expectObservable }) => {
      const connected: RealtimeConnectionSnapshot = { state: 'connected', attempt: 0, nextRetryAt: null };
      const retrying: RealtimeConnectionSnapshot = { state: 'reconnecting', attempt: 1, nextRetryAt: 1000 };
      const error: RealtimeError = { kind: 'network', message: 'dropped', closeCode: 1006, at: 0 };
      const service = {
        connection$: cold('a-b', { a: connected, b: retrying }),
        errors$: cold('--e', { e: error }),
      } as unknown as RealtimeService;
      expectObservable(connectionState$(service)).toBe('a-b', {
        a: RealtimeConnectionActions.stateChanged({ snapshot: connected }),
        b: RealtimeConnectionActions.stateChanged({ snapshot: retrying }),
      });
      expectObservable(connectionErrors$(service)).toBe('--e', { e: RealtimeConnectionActions.errorReported({ error }) });
    });
  });
});

describe('recovery effects', () => {
  it('maps resumed and recovery:failed to Resumed and Recovery Failed', () => {
    const { service, messages } = fakeRealtime();
    const out: Action[] = [];
    recovery$(service).subscribe((a) => out.push(a));
    messages.next({ type: 'resumed', payload: { since: '1765447200000-1', replayed: 3 }, timestamp: TS });
    messages.next({ type: 'recovery:failed', payload: { since: '1765447200000-1', reason: 'too-old' }, timestamp: TS });
    messages.next(paymentUpdated('p1'));
    expect(out).toEqual([
      RealtimeConnectionActions.resumed({ since: '1765447200000-1', replayed: 3 }),
      RealtimeConnectionActions.recoveryFailed({ since: '1765447200000-1', reason: 'too-old' }),
    ]);
  });

  it('Recovery Failed → reloads the payments with the provided loader, and reports a failed reload', async () => {
    const actions$ = new Subject<Action>();
    const payments = [{ paymentId: 'p9', status: 'completed' as const, amount: '5.00', currency: 'EUR' }];
    let calls = 0;
    const loader = () => (++calls === 1 ? Promise.resolve(payments) : Promise.reject(new Error('HTTP 503')));
    const out: Action[] = [];
    reloadPaymentsAfterFailedRecovery$(new Actions(actions$), loader, TestBed.inject(Injector), () => Date.parse(TS)).subscribe((a) => out.push(a));
    actions$.next(RealtimeConnectionActions.recoveryFailed({ since: '1765447200000-1', reason: 'too-old' }));
    await new Promise((resolve) => setTimeout(resolve));
    actions$.next(RealtimeConnectionActions.recoveryFailed({ since: '1765447200000-2', reason: 'unavailable' }));
    await new Promise((resolve) => setTimeout(resolve));
    expect(out).toEqual([
      RealtimePaymentsActions.paymentsReloadStarted(),
      RealtimePaymentsActions.paymentsReloaded({ payments, receivedAt: TS }),
      RealtimePaymentsActions.paymentsReloadStarted(),
      RealtimePaymentsActions.paymentsReloadFailed({ message: 'HTTP 503' }),
    ]);
  });

  it('does nothing on Recovery Failed without a loader', () => {
    const actions$ = new Subject<Action>();
    const out: Action[] = [];
    reloadPaymentsAfterFailedRecovery$(new Actions(actions$), null, TestBed.inject(Injector)).subscribe((a) => out.push(a));
    actions$.next(RealtimeConnectionActions.recoveryFailed({ since: '1765447200000-1', reason: 'too-old' }));
    expect(out).toEqual([]);
  });

  it('Payments Reloaded replaces the payments in the store', () => {
    const before = realtimePaymentsFeature.reducer(
      undefined,
      RealtimePaymentsActions.paymentUpdated({ payment: paymentUpdated('old').payload, eventId: null, receivedAt: TS }),
    );
    const after = realtimePaymentsFeature.reducer(
      before,
      RealtimePaymentsActions.paymentsReloaded({ payments: [paymentUpdated('new').payload], receivedAt: TS }),
    );
    expect(after.ids).toEqual(['new']);
  });
});

describe('realtime effects with provideMockActions', () => {
  let actions$: ReplaySubject<Action>;
  let realtime: ReturnType<typeof fakeRealtime>['fake'];

  beforeEach(() => {
    actions$ = new ReplaySubject<Action>();
    realtime = fakeRealtime().fake;
    TestBed.configureTestingModule({
      providers: [provideMockActions(() => actions$), { provide: RealtimeService, useValue: realtime }],
    });
  });

  it('Watch Room → subscribe(room) → Room Subscribed', async () => {
    realtime.subscribe.and.returnValue(Promise.resolve({ room: 'payment:p1', correlationId: 'c1' }));
    const result = TestBed.runInInjectionContext(() => firstValueFrom(watchRoom$()));
    actions$.next(RealtimeRoomsActions.watchRoom({ room: 'payment:p1' }));
    expect(await result).toEqual(RealtimeRoomsActions.roomSubscribed({ room: 'payment:p1' }));
    expect(realtime.subscribe).toHaveBeenCalledOnceWith('payment:p1');
  });

  it('Watch Room → a refused subscribe → Room Request Failed with the gateway code, and the effect keeps running', async () => {
    realtime.subscribe.and.returnValues(
      Promise.reject(new RealtimeRequestError('FORBIDDEN', 'not your room', 'payment:p2')),
      Promise.resolve({ room: 'payment:p3' }),
    );
    const result = TestBed.runInInjectionContext(() => firstValueFrom(watchRoom$().pipe(toArray())));
    actions$.next(RealtimeRoomsActions.watchRoom({ room: 'payment:p2' }));
    actions$.next(RealtimeRoomsActions.watchRoom({ room: 'payment:p3' }));
    actions$.complete();
    expect(await result).toEqual([
      RealtimeRoomsActions.roomRequestFailed({ room: 'payment:p2', code: 'FORBIDDEN', message: 'not your room' }),
      RealtimeRoomsActions.roomSubscribed({ room: 'payment:p3' }),
    ]);
  });

  it('Logout Requested → disconnect()', () => {
    TestBed.runInInjectionContext(() => disconnectOnLogout$().subscribe());
    expect(realtime.disconnect).not.toHaveBeenCalled();
    actions$.next(RealtimeSessionActions.logoutRequested({ session: { userId: 'u1', sessionId: 's1', action: 'logout' } }));
    expect(realtime.disconnect).toHaveBeenCalledTimes(1);
  });
});

describe('realtime reducers', () => {
  it('upserts payments by paymentId and keeps the latest status', () => {
    const reducer = realtimePaymentsFeature.reducer;
    let state = reducer(undefined, { type: '@init' });
    const update = (status: 'processing' | 'completed', eventId: string) =>
      RealtimePaymentsActions.paymentUpdated({
        payment: { paymentId: 'p1', status, amount: '5.00', currency: 'EUR' },
        eventId,
        receivedAt: TS,
      });
    state = reducer(state, update('processing', '1'));
    state = reducer(state, update('completed', '2'));
    const root = { realtimePayments: state };
    expect(realtimePaymentsFeature.selectTotal(root)).toBe(1);
    expect(realtimePaymentsFeature.selectPayment('p1')(root)).toEqual(
      jasmine.objectContaining({ status: 'completed', lastEventId: '2' }),
    );
  });

  it('tracks the connection state, attempt and last error; a successful connection clears the error', () => {
    const reducer = realtimeConnectionFeature.reducer;
    const error: RealtimeError = { kind: 'auth', message: 'expired', at: 1 };
    let state = reducer(undefined, RealtimeConnectionActions.errorReported({ error }));
    state = reducer(state, RealtimeConnectionActions.stateChanged({ snapshot: { state: 'reconnecting', attempt: 3, nextRetryAt: 9 } }));
    expect(state).toEqual({ state: 'reconnecting', attempt: 3, nextRetryAt: 9, lastError: error });
    state = reducer(state, RealtimeConnectionActions.stateChanged({ snapshot: { state: 'connected', attempt: 0, nextRetryAt: null } }));
    expect(realtimeConnectionFeature.selectIsConnected({ realtimeConnection: state })).toBeTrue();
    expect(state.lastError).toBeNull();
  });

});
