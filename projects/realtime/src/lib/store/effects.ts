import { inject } from '@angular/core';
import { Actions, createEffect, ofType } from '@ngrx/effects';
import type { Room } from '@payments-system/protocol';
import { asyncScheduler, filter, map, mergeMap, of, tap } from 'rxjs';
import { RealtimeRequestError } from '../errors';
import { RealtimeService } from '../realtime.service';
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

/** `notification:new` and `system:broadcast` → actions the app can show. */
export const notifications$ = createEffect(
  (realtime = inject(RealtimeService)) =>
    realtime.messages$.pipe(
      mergeMap((message) => {
        if (message.type === 'notification:new') {
          return of(RealtimeNotificationsActions.notificationReceived({ notification: message.payload }));
        }
        if (message.type === 'system:broadcast') {
          return of(RealtimeNotificationsActions.broadcastReceived({ broadcast: message.payload }));
        }
        return [];
      }),
    ),
  { functional: true },
);

function failed(room: Room, error: unknown) {
  return RealtimeRoomsActions.roomRequestFailed({
    room,
    code: error instanceof RealtimeRequestError ? error.code : 'UNKNOWN',
    message: error instanceof Error ? error.message : String(error),
  });
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
  sessionLogout$,
  notifications$,
  watchRoom$,
  unwatchRoom$,
  disconnectOnLogout$,
};
