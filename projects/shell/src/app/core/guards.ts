import { inject } from '@angular/core';
import { Router, type CanActivateFn } from '@angular/router';
import { AuthService } from './auth.service';

/** The dashboard needs a session. */
export const signedInGuard: CanActivateFn = () =>
  inject(AuthService).isSignedIn() || inject(Router).parseUrl('/login');

/** The login page is for signed-out users. */
export const signedOutGuard: CanActivateFn = () =>
  !inject(AuthService).isSignedIn() || inject(Router).parseUrl('/');
