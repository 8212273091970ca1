import { HttpClient } from '@angular/common/http';
import { inject } from '@angular/core';
import { Actions, createEffect, ofType } from '@ngrx/effects';
import { Store } from '@ngrx/store';
import type { Payment } from '@payments-system/protocol';
import { RealtimeService } from '@payments-system/realtime';
import { RealtimeConnectionActions, RealtimeNotificationsActions, RealtimePaymentsActions, RealtimeSessionActions } from '@payments-system/realtime/store';
import { catchError, exhaustMap, filter, map, merge, mergeMap, of, pairwise, switchMap, tap, timer, withLatestFrom } from 'rxjs';
import { errorMessage } from '../core/api-error';
import { AuthService } from '../core/auth.service';
import { NoticesActions, noticesFeature, type Toast } from './notices.feature';
import { PaymentsApiActions, PaymentsPageActions, PaymentsUiActions } from './payments.actions';
import { paymentsFeature } from './payments.feature';

/** How long a changed row stays highlighted. */
export const HIGHLIGHT_MS = 4000;
/** How long a toast stays; errors stay longer. */
export const toastLifetime = (toast: Pick<Toast, 'level'>) => (toast.level === 'error' || toast.level === 'warning' ? 10_000 : 6_000);

/** Initial load over HTTP (and again after a lost connection came back). */
export const loadPayments$ = createEffect(
  (actions$ = inject(Actions), http = inject(HttpClient)) =>
    actions$.pipe(
      ofType(PaymentsPageActions.opened, PaymentsUiActions.resyncRequested),
      switchMap(() =>
        http.get<{ payments: Payment[] }>('/api/payments').pipe(
          map(({ payments }) => PaymentsApiActions.loadSucceeded({ payments })),
          catchError((error: unknown) => of(PaymentsApiActions.loadFailed({ message: errorMessage(error) }))),
        ),
      ),
    ),
  { functional: true },
);

/** A customer creates a payment. */
export const createPayment$ = createEffect(
  (actions$ = inject(Actions), http = inject(HttpClient)) =>
    actions$.pipe(
      ofType(PaymentsPageActions.createSubmitted),
      exhaustMap(({ payment }) =>
        http.post<Payment>('/api/payments', payment).pipe(
          map((created) => PaymentsApiActions.createSucceeded({ payment: created })),
          catchError((error: unknown) => of(PaymentsApiActions.createFailed({ message: errorMessage(error) }))),
        ),
      ),
    ),
  { functional: true },
);

/** An admin moves a payment to its next status. */
export const changeStatus$ = createEffect(
  (actions$ = inject(Actions), http = inject(HttpClient)) =>
    actions$.pipe(
      ofType(PaymentsPageActions.statusChangeSubmitted),
      mergeMap(({ paymentId, status }) =>
        http.patch<Payment>(`/api/payments/${encodeURIComponent(paymentId)}`, { status }).pipe(
          map((payment) => PaymentsApiActions.statusChangeSucceeded({ payment })),
          catchError((error: unknown) =>
            of(PaymentsApiActions.statusChangeFailed({ paymentId, message: errorMessage(error) })),
          ),
        ),
      ),
    ),
  { functional: true },
);

/**
 * Events may have been missed while the socket was away. The library asks the gateway to replay them (`resume`);
 * the list is loaded again over HTTP only when that cannot work: the gateway answered `recovery:failed`
 * (e.g. it restarted and lost its history), or there was no event id to resume from.
 */
export const resyncAfterReconnect$ = createEffect(
  (actions$ = inject(Actions), auth = inject(AuthService), realtime = inject(RealtimeService)) =>
    merge(
      actions$.pipe(
        ofType(RealtimeConnectionActions.stateChanged),
        map(({ snapshot }) => snapshot.state),
        pairwise(),
        filter(([before, now]) => before === 'reconnecting' && now === 'connected' && realtime.lastEventId() === null),
      ),
      actions$.pipe(ofType(RealtimeConnectionActions.recoveryFailed)),
    ).pipe(
      filter(() => auth.isSignedIn()),
      map(() => PaymentsUiActions.resyncRequested()),
    ),
  { functional: true },
);

/** A changed row is highlighted for a while, then quietly goes back to normal. */
export const expireHighlights$ = createEffect(
  (actions$ = inject(Actions), store = inject(Store), highlightMs = HIGHLIGHT_MS) =>
    actions$.pipe(
      ofType(
        RealtimePaymentsActions.paymentUpdated,
        PaymentsApiActions.createSucceeded,
        PaymentsApiActions.statusChangeSucceeded,
      ),
      map((action) => ('payment' in action ? action.payment.paymentId : '')),
      withLatestFrom(store.select(paymentsFeature.selectEntities)),
      map(([paymentId, entities]) => entities[paymentId]),
      filter((row) => !!row?.changeId),
      mergeMap((row) =>
        timer(highlightMs).pipe(map(() => PaymentsUiActions.highlightExpired({ paymentId: row!.paymentId, changeId: row!.changeId! }))),
      ),
    ),
  { functional: true },
);

/** Toasts go away by themselves (they can also be dismissed); what they say stays visible in the table. */
export const expireToasts$ = createEffect(
  (actions$ = inject(Actions), store = inject(Store)) =>
    actions$.pipe(
      ofType(RealtimeNotificationsActions.notificationReceived, NoticesActions.toastShown, PaymentsApiActions.statusChangeFailed),
      withLatestFrom(store.select(noticesFeature.selectToasts)),
      map(([, toasts]) => toasts[toasts.length - 1]),
      filter((toast): toast is Toast => !!toast),
      mergeMap((toast) => timer(toastLifetime(toast)).pipe(map(() => NoticesActions.toastDismissed({ id: toast.id })))),
    ),
  { functional: true },
);

/** The gateway says this user signed out elsewhere (`session:sync`): forget the session here too. */
export const signOutWhenSessionEnds$ = createEffect(
  (actions$ = inject(Actions), auth = inject(AuthService)) =>
    actions$.pipe(
      ofType(RealtimeSessionActions.logoutRequested),
      filter(({ session }) => session.userId === auth.user()?.userId),
      tap(() => auth.endLocally('elsewhere')),
    ),
  { functional: true, dispatch: false },
);

export const appEffects = {
  loadPayments$,
  createPayment$,
  changeStatus$,
  resyncAfterReconnect$,
  expireHighlights$,
  expireToasts$,
  signOutWhenSessionEnds$,
};
