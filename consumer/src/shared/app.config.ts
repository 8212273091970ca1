import { ApplicationConfig, inject, provideBrowserGlobalErrorListeners } from '@angular/core';
import { provideRouter } from '@angular/router';
import { provideRealtime, withSharedConnection } from '@payments-system/realtime';
import { routes } from '../app/app.routes';
import { AuthService } from '../app/auth.service';

export const appConfig: ApplicationConfig = {
  providers: [
    provideBrowserGlobalErrorListeners(),
    provideRouter(routes),
    provideRealtime(
      {
        url: '/ws',
        token: () => inject(AuthService).accessToken,
        refreshToken: (stale) => inject(AuthService).refresh(stale),
      },
      // One socket for all the tabs of a login session: one tab owns it, the others use it.
      withSharedConnection(),
    ),
  ],
};
