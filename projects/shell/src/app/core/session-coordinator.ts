import { effect, inject, Injectable, untracked } from '@angular/core';
import { Router } from '@angular/router';
import { Store } from '@ngrx/store';
import { RealtimeService } from '@payments-system/realtime';
import { SessionActions } from '../state/payments.actions';
import { AuthService } from './auth.service';

/**
 * Follows who is signed in (here or in another tab) and keeps the rest of the app in step: the store is reset,
 * the socket is (re)opened for the new user, and the router goes to the dashboard or the login page.
 */
@Injectable({ providedIn: 'root' })
export class SessionCoordinator {
  private readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  private readonly store = inject(Store);
  private readonly realtime = inject(RealtimeService);
  private lastUserId: string | null | undefined = undefined;

  constructor() {
    effect(() => {
      const userId = this.auth.user()?.userId ?? null;
      untracked(() => this.onUserChanged(userId));
    });
  }

  private onUserChanged(userId: string | null): void {
    if (userId === this.lastUserId) return;
    const first = this.lastUserId === undefined;
    this.lastUserId = userId;
    if (userId === null) {
      if (!first) this.store.dispatch(SessionActions.signedOut());
      if (!this.router.url.startsWith('/login')) void this.router.navigateByUrl('/login');
      return;
    }
    this.store.dispatch(SessionActions.signedIn({ userId }));
    // The library stops for good after a session:sync logout or an auth failure; a new login starts it again.
    this.realtime.connect();
    if (!first && this.router.url.startsWith('/login')) void this.router.navigateByUrl('/');
  }
}
