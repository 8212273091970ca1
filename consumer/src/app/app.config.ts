import { ApplicationConfig, inject, provideBrowserGlobalErrorListeners } from '@angular/core';
import { provideRouter } from '@angular/router';
import { provideRealtime } from '@payments-system/realtime';
import { routes } from './app.routes';
import { AuthService } from './auth.service';

export const appConfig: ApplicationConfig = {
  providers: [
    provideBrowserGlobalErrorListeners(),
    provideRouter(routes),
    provideRealtime({
      url: '/ws', // or 'wss://gateway.example.com/ws'
      // Factories run in the service's injection context, so they may inject().
      token: () => inject(AuthService).accessToken, // a Signal<string | null>: null while signed out
      refreshToken: (stale) => inject(AuthService).refresh(stale), // a new token, or null: the session is over
    }),
  ],
};
