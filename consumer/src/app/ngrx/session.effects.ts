import { inject } from '@angular/core';
import { Router } from '@angular/router';
import { Actions, createEffect, ofType } from '@ngrx/effects';
import { RealtimeSessionActions } from '@payments-system/realtime/store';
import { tap } from 'rxjs';
import { AuthService } from '../auth.service';

// The gateway says the session ended elsewhere (a sign-out in another tab or on another device).
export const logoutOnSessionEnd$ = createEffect(
  (actions$ = inject(Actions), auth = inject(AuthService), router = inject(Router)) =>
    actions$.pipe(
      ofType(RealtimeSessionActions.logoutRequested),
      tap(() => {
        auth.signOut();
        void router.navigateByUrl('/login');
      }),
    ),
  { functional: true, dispatch: false },
);
