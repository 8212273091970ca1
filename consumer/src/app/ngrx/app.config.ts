import { HttpClient, provideHttpClient } from '@angular/common/http';
import { ApplicationConfig, inject, provideBrowserGlobalErrorListeners } from '@angular/core';
import { provideRouter } from '@angular/router';
import { provideEffects } from '@ngrx/effects';
import { provideStore } from '@ngrx/store';
import type { Payment } from '@payments-system/protocol';
import { provideRealtime } from '@payments-system/realtime';
import { provideRealtimeStore } from '@payments-system/realtime/store';
import { map } from 'rxjs';
import { routes } from '../app.routes';
import { AuthService } from '../auth.service';
import { logoutOnSessionEnd$ } from './session.effects';

export const appConfig: ApplicationConfig = {
  providers: [
    provideBrowserGlobalErrorListeners(),
    provideRouter(routes), // with the /login route the logout effect navigates to
    provideHttpClient(),
    provideStore(),
    provideRealtime({
      url: '/ws',
      token: () => inject(AuthService).accessToken,
      refreshToken: (stale) => inject(AuthService).refresh(stale),
    }),
    provideRealtimeStore({
      // After `Recovery Failed`, in an injection context. The API wants the token like the socket does.
      reloadPayments: () =>
        inject(HttpClient)
          .get<{ payments: Payment[] }>('/api/payments', {
            headers: { authorization: `Bearer ${inject(AuthService).accessToken()}` },
          })
          .pipe(map((response) => response.payments)),
    }),
    provideEffects({ logoutOnSessionEnd$ }), // your effects: the library registers its own
  ],
};
