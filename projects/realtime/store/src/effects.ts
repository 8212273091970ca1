import { inject, InjectionToken, Injector, runInInjectionContext } from '@angular/core';
import { Actions, createEffect, ofType } from '@ngrx/effects';
import type { PaymentUpdatedPayload, Room } from '@payments-system/protocol';
import { asyncScheduler, catchError, defer, EMPTY, filter, from, isObservable, map, merge, mergeMap, of, startWith, switchMap, take, tap, type Observable } from 'rxjs';
import { RealtimeRequestError, RealtimeService } from '@payments-system/realtime';
import {
  RealtimeConnectionActions,
  RealtimeNotificationsActions,
  RealtimePaymentsActions,
  RealtimeRoomsActions,
  RealtimeSessionActions,
} from './actions';

// Dependencies are default parameters, so each effect can be called as a plain function in a test.

/** Connection state → store. */
export const connectionState$ = createEffect(
  (realtime = inject(RealtimeService)) =>
    realtime.connection$.pipe(map((snapshot) => RealtimeConnectionActions.stateChanged({ snapshot }))),
  { functional: true },
);

/** Errors (auth, network, protocol, closed by server) → store. */
export const connectionErrors$ = createEffect(
  (realtime = inject(RealtimeService)) =>
    realtime.errors$.pipe(map((error) => RealtimeConnectionActions.errorReported({ error }))),
  { functional: true },
);

/** Loads every payment the user may see, e.g. `() => inject(HttpClient).get(...)`; runs in an injection context. */
export type RealtimePaymentsLoader = () =>
  | Observable<readonly PaymentUpdatedPayload[]>
  | Promise<readonly PaymentUpdatedPayload[]>;

/** @internal Set by `provideRealtimeStore({ reloadPayments })`. */
export const ɵREALTIME_RELOAD_PAYMENTS = new InjectionToken<RealtimePaymentsLoader>('ɵREALTIME_RELOAD_PAYMENTS');

/** `resumed` / `recovery:failed` after a reconnect → `Resumed` / `Recovery Failed`. */
export const recovery$ = createEffect(
  (realtime = inject(RealtimeService)) =>
    merge(
      realtime.on('resumed').pipe(map((message) => RealtimeConnectionActions.resumed(message.payload))),
      realtime.on('recovery:failed').pipe(map((message) => RealtimeConnectionActions.recoveryFailed(message.payload))),
    ),
  { functional: true },
);

/** `Recovery Failed` → reload the payments over HTTP (when a loader was provided), replacing the store's. */
export const reloadPaymentsAfterFailedRecovery$ = createEffect(
  (
    actions$ = inject(Actions),
    loader = inject(ɵREALTIME_RELOAD_PAYMENTS, { optional: true }),
    injector = inject(Injector),
    now: () => number = () => asyncScheduler.now(),
  ) =>
    loader === null
      ? EMPTY
      : actions$.pipe(
          ofType(RealtimeConnectionActions.recoveryFailed),
          switchMap(() => {
            const load = defer(() => {
              const result = runInInjectionContext(injector, loader);
              return isObservable(result) ? result.pipe(take(1)) : from(result);
            });
            return load.pipe(
              map((payments) => RealtimePaymentsActions.paymentsReloaded({ payments, receivedAt: new Date(now()).toISOString() })),
              catchError((error: unknown) => of(RealtimePaymentsActions.paymentsReloadFailed({ message: messageOf(error) }))),
              startWith(RealtimePaymentsActions.paymentsReloadStarted()),
            );
          }),
        ),
  { functional: true },
);

/** `payment:updated` → upsert the payment. */
export const paymentUpdated$ = createEffect(
  (realtime = inject(RealtimeService), now: () => number = () => asyncScheduler.now()) =>
    realtime.on('payment:updated').pipe(
      map((message) =>
        RealtimePaymentsActions.paymentUpdated({
          payment: message.payload,
          eventId: message.id ?? null,
          receivedAt: new Date(now()).toISOString(),
        }),
      ),
    ),
  { functional: true },
);

/** `session:sync` with `action: 'logout'` → `Logout Requested`, for the host app's auth to handle. */
export const sessionLogout$ = createEffect(
  (realtime = inject(RealtimeService)) =>
    realtime.on('session:sync').pipe(
      filter((message) => message.payload.action === 'logout'),
      map((message) => RealtimeSessionActions.logoutRequested({ session: message.payload })),
    ),
  { functional: true },
);

/** The login session ended (a sign-out, another user) → `Session Ended`: the old session's state is dropped. */
export const sessionEnded$ = createEffect(
  (realtime = inject(RealtimeService)) => realtime.sessionEnded$.pipe(map(() => RealtimeSessionActions.sessionEnded())),
  { functional: true },
);

/** `notification:new` and `system:broadcast` → actions the app can show. */
export const notifications$ = createEffect(
  (realtime = inject(RealtimeService)) =>
    merge(
      realtime
        .on('notification:new')
        .pipe(map((message) => RealtimeNotificationsActions.notificationReceived({ notification: message.payload }))),
      realtime
        .on('system:broadcast')
        .pipe(map((message) => RealtimeNotificationsActions.broadcastReceived({ broadcast: message.payload }))),
    ),
  { functional: true },
);

function failed(room: Room, error: unknown) {
  return RealtimeRoomsActions.roomRequestFailed({
    room,
    code: error instanceof RealtimeRequestError ? error.code : 'UNKNOWN',
    message: messageOf(error),
  });
}

/** An error's message; `HttpErrorResponse` is not an `Error` but has one. */
function messageOf(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string') return error.message;
  return String(error);
}

/** `Watch Room` → `subscribe(room)` → `Room Subscribed` or `Room Request Failed`. */
export const watchRoom$ = createEffect(
  (actions$ = inject(Actions), realtime = inject(RealtimeService)) =>
    actions$.pipe(
      ofType(RealtimeRoomsActions.watchRoom),
      mergeMap(({ room }) =>
        realtime.subscribe(room).then(
          () => RealtimeRoomsActions.roomSubscribed({ room }),
          (error: unknown) => failed(room, error),
        ),
      ),
    ),
  { functional: true },
);

/** `Unwatch Room` → `unsubscribe(room)` → `Room Unsubscribed` or `Room Request Failed`. */
export const unwatchRoom$ = createEffect(
  (actions$ = inject(Actions), realtime = inject(RealtimeService)) =>
    actions$.pipe(
      ofType(RealtimeRoomsActions.unwatchRoom),
      mergeMap(({ room }) =>
        realtime.unsubscribe(room).then(
          () => RealtimeRoomsActions.roomUnsubscribed({ room }),
          (error: unknown) => failed(room, error),
        ),
      ),
    ),
  { functional: true },
);

/** `Logout Requested` or `Disconnect Requested` → close the socket (the token is no longer valid). */
export const disconnectOnLogout$ = createEffect(
  (actions$ = inject(Actions), realtime = inject(RealtimeService)) =>
    actions$.pipe(
      ofType(RealtimeSessionActions.logoutRequested, RealtimeRoomsActions.disconnectRequested),
      tap(() => realtime.disconnect()),
    ),
  { functional: true, dispatch: false },
);

/** Every realtime effect, for `provideEffects(realtimeEffects)`. */
export const realtimeEffects = {
  connectionState$,
  connectionErrors$,
  paymentUpdated$,
  recovery$,
  reloadPaymentsAfterFailedRecovery$,
  sessionLogout$,
  sessionEnded$,
  notifications$,
  watchRoom$,
  unwatchRoom$,
  disconnectOnLogout$,
};
