import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { inject, provideBrowserGlobalErrorListeners, provideEnvironmentInitializer, type ApplicationConfig } from '@angular/core';
import { provideRouter, withComponentInputBinding } from '@angular/router';
import { provideEffects } from '@ngrx/effects';
import { provideState, provideStore } from '@ngrx/store';
import { provideRealtime, withSharedConnection } from '@payments-system/realtime';
import { provideRealtimeStore } from '@payments-system/realtime/store';
import { routes } from './app.routes';
import { authInterceptor } from './core/auth.interceptor';
import { AuthService } from './core/auth.service';
import { SessionCoordinator } from './core/session-coordinator';
import { appEffects } from './state/app.effects';
import { noticesFeature } from './state/notices.feature';
import { paymentsFeature } from './state/payments.feature';

export const appConfig: ApplicationConfig = {
  providers: [
    provideBrowserGlobalErrorListeners(),
    provideRouter(routes, withComponentInputBinding()),
    provideHttpClient(withInterceptors([authInterceptor])),
    provideStore(),
    provideState(paymentsFeature),
    provideState(noticesFeature),
    provideRealtime(
      {
        url: '/ws',
        // Changes only when who is signed in changes; a token the gateway refuses (4001, or a refused handshake)
        // is replaced through refreshToken.
        token: () => inject(AuthService).socketToken,
        refreshToken: (stale) => inject(AuthService).refreshSocketToken(stale),
      },
      // The tabs of one login share one socket, owned by one of them (see the library README).
      withSharedConnection(),
    ),
    provideRealtimeStore(),
    provideEffects(appEffects),
    provideEnvironmentInitializer(() => void inject(SessionCoordinator)),
  ],
};
