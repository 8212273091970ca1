/**
 * provideRealtime's JSDoc example, compiled by the spec build and run: an example that stops compiling or calls
 * `inject()` where it cannot fails here. The README's examples are files of the consumer app, compiled and run by
 * `npm run test:consumer`.
 */
import { inject, Injectable, type ApplicationConfig } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideRealtimeTesting, RealtimeTestingController } from '@payments-system/realtime/testing';
import { provideRealtime } from './provide-realtime';
import { RealtimeService } from './realtime.service';

@Injectable({ providedIn: 'root' })
class AuthService {
  readonly accessToken = 'token-from-auth';
  refresh(): Promise<string> {
    return Promise.resolve('refreshed-token');
  }
}

// provideRealtime's JSDoc: a module-level config, outside any injection context.
export const appConfig: ApplicationConfig = {
  providers: [
    provideRealtime({
      url: '/ws',
      token: () => inject(AuthService).accessToken,
      refreshToken: () => inject(AuthService).refresh(),
    }),
  ],
};

describe('documentation examples', () => {
  it('the app.config.ts example connects with the token its factory injects', () => {
    TestBed.configureTestingModule({ providers: [...appConfig.providers, provideRealtimeTesting()] });
    TestBed.inject(RealtimeService);
    expect(TestBed.inject(RealtimeTestingController).latest.bearerToken).toBe('token-from-auth');
  });

  it('calling inject() in the config itself, as the old JSDoc did, fails with NG0203', () => {
    expect(() => provideRealtime({ url: '/ws', token: inject(AuthService).accessToken })).toThrowError(/NG0203/);
  });
});
