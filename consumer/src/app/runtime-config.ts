import { inject, InjectionToken } from '@angular/core';
import { provideRealtime } from '@payments-system/realtime';
import { AuthService } from './auth.service';

/** Configuration known at runtime only (fetched before bootstrap, or per request with SSR). */
export const RUNTIME_CONFIG = new InjectionToken<{ readonly realtimeUrl: string }>('RUNTIME_CONFIG');

// The factory runs in an injection context when the app starts; a bad option throws there, naming it.
export const realtimeFromRuntimeConfig = provideRealtime(() => ({
  url: inject(RUNTIME_CONFIG).realtimeUrl,
  token: () => inject(AuthService).accessToken,
  refreshToken: (stale) => inject(AuthService).refresh(stale),
}));
