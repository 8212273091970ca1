import { HttpErrorResponse } from '@angular/common/http';
import { Injector } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { Actions } from '@ngrx/effects';
import type { Action } from '@ngrx/store';
import type { RealtimeService } from '@payments-system/realtime';
import { Subject, throwError } from 'rxjs';
import { paymentUpdated, TS } from '../../src/spec-helpers/server-messages';
import { RealtimeConnectionActions, RealtimePaymentsActions, RealtimeSessionActions } from './actions';
import { reloadPaymentsAfterFailedRecovery$, sessionEnded$ } from './effects';
import { realtimePaymentsFeature } from './payments.feature';

const reducer = realtimePaymentsFeature.reducer;
const updated = (id: string) =>
  RealtimePaymentsActions.paymentUpdated({ payment: paymentUpdated(id).payload, eventId: null, receivedAt: TS });

describe('realtimePaymentsFeature', () => {
  it("forgets the previous user's payments when the session ends or the gateway ends it", () => {
    for (const end of [RealtimeSessionActions.sessionEnded(), RealtimeSessionActions.logoutRequested({ session: { userId: 'u1', sessionId: 's1', action: 'logout' } })]) {
      const state = reducer(reducer(undefined, updated('alice-1')), end);
      expect(realtimePaymentsFeature.selectTotal({ realtimePayments: state })).withContext(end.type).toBe(0);
    }
  });

  it('shows a reload in progress, then its failure, in state and selectors; a later success clears the error', () => {
    let state = reducer(undefined, RealtimePaymentsActions.paymentsReloadStarted());
    const root = () => ({ realtimePayments: state });
    expect(realtimePaymentsFeature.selectReloading(root())).toBeTrue();
    state = reducer(state, RealtimePaymentsActions.paymentsReloadFailed({ message: 'Http failure response for /api/payments: 401 Unauthorized' }));
    expect(realtimePaymentsFeature.selectReloading(root())).toBeFalse();
    expect(realtimePaymentsFeature.selectReloadError(root())).toMatch(/401 Unauthorized/);
    state = reducer(state, RealtimePaymentsActions.paymentsReloaded({ payments: [paymentUpdated('p1').payload], receivedAt: TS }));
    expect(realtimePaymentsFeature.selectReloadError(root())).toBeNull();
    expect(realtimePaymentsFeature.selectTotal(root())).toBe(1);
  });
});

describe('session and reload effects', () => {
  it('maps the service\'s sessionEnded$ to Session Ended', () => {
    const ended = new Subject<void>();
    const out: Action[] = [];
    sessionEnded$({ sessionEnded$: ended } as unknown as RealtimeService).subscribe((a) => out.push(a));
    ended.next();
    expect(out).toEqual([RealtimeSessionActions.sessionEnded()]);
  });

  it("reports an HttpClient failure with the response's message, not [object Object]", () => {
    const actions$ = new Subject<Action>();
    const out: Action[] = [];
    const loader = () => throwError(() => new HttpErrorResponse({ url: '/api/payments', status: 401, statusText: 'Unauthorized' }));
    reloadPaymentsAfterFailedRecovery$(new Actions(actions$), loader, TestBed.inject(Injector)).subscribe((a) => out.push(a));
    actions$.next(RealtimeConnectionActions.recoveryFailed({ since: '1765447200000-1', reason: 'too-old' }));
    expect(out).toEqual([
      RealtimePaymentsActions.paymentsReloadStarted(),
      RealtimePaymentsActions.paymentsReloadFailed({ message: 'Http failure response for /api/payments: 401 Unauthorized' }),
    ]);
  });
});
