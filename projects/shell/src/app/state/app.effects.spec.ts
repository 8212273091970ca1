import { computed, signal } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideMockActions } from '@ngrx/effects/testing';
import type { Action } from '@ngrx/store';
import type { User } from '@payments-system/protocol';
import { RealtimeService } from '@payments-system/realtime';
import { RealtimeConnectionActions, RealtimeSessionActions } from '@payments-system/realtime/store';
import { Subject } from 'rxjs';
import { ALICE } from '../../testing/fakes';
import { AuthService } from '../core/auth.service';
import { resyncAfterReconnect$, signOutWhenSessionEnds$ } from './app.effects';
import { PaymentsUiActions } from './payments.actions';

describe('app effects', () => {
  let actions$: Subject<Action>;
  let auth: { user: ReturnType<typeof signal<User | null>>; isSignedIn: () => boolean; endLocally: jasmine.Spy };
  const lastEventId = signal<string | null>(null);

  beforeEach(() => {
    actions$ = new Subject<Action>();
    const user = signal<User | null>(ALICE);
    auth = { user, isSignedIn: computed(() => user() !== null), endLocally: jasmine.createSpy('endLocally') };
    lastEventId.set(null);
    TestBed.configureTestingModule({
      providers: [
        provideMockActions(() => actions$),
        { provide: AuthService, useValue: auth },
        { provide: RealtimeService, useValue: { lastEventId } },
      ],
    });
  });

  it('signs this tab out when the gateway says the user logged out elsewhere (session:sync)', () => {
    TestBed.runInInjectionContext(() => signOutWhenSessionEnds$().subscribe());
    actions$.next(RealtimeSessionActions.logoutRequested({ session: { userId: 'bob', sessionId: 's1', action: 'logout' } }));
    expect(auth.endLocally).not.toHaveBeenCalled();
    actions$.next(RealtimeSessionActions.logoutRequested({ session: { userId: 'alice', sessionId: 's1', action: 'logout' } }));
    expect(auth.endLocally).toHaveBeenCalledOnceWith('elsewhere');
  });

  it('loads the list again after a reconnect with nothing to resume from, not on the first connect', () => {
    const out: Action[] = [];
    TestBed.runInInjectionContext(() => resyncAfterReconnect$().subscribe((a) => out.push(a)));
    const state = (s: 'connecting' | 'connected' | 'reconnecting') =>
      actions$.next(RealtimeConnectionActions.stateChanged({ snapshot: { state: s, attempt: 0, nextRetryAt: null } }));
    state('connecting');
    state('connected');
    expect(out).toEqual([]);
    state('reconnecting');
    state('connected');
    expect(out).toEqual([PaymentsUiActions.resyncRequested()]);
  });

  it('trusts the replay after a reconnect (resume), and reloads when the gateway cannot replay', () => {
    const out: Action[] = [];
    TestBed.runInInjectionContext(() => resyncAfterReconnect$().subscribe((a) => out.push(a)));
    lastEventId.set('1700000000000-3');
    for (const s of ['connected', 'reconnecting', 'connected'] as const) {
      actions$.next(RealtimeConnectionActions.stateChanged({ snapshot: { state: s, attempt: 0, nextRetryAt: null } }));
    }
    expect(out).toEqual([]);
    actions$.next(RealtimeConnectionActions.recoveryFailed({ since: '1700000000000-3', reason: 'too-old' }));
    expect(out).toEqual([PaymentsUiActions.resyncRequested()]);
  });
});
