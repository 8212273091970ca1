/**
 * provideRealtime's JSDoc example and a room() component, compiled by the spec build and run: an example that stops
 * compiling or calls `inject()` where it cannot fails here. The README's examples are files of the consumer app,
 * compiled and run by `npm run test:consumer`.
 */
import { Component, inject, Injectable, input, type ApplicationConfig } from '@angular/core';
import { toObservable, toSignal } from '@angular/core/rxjs-interop';
import { TestBed } from '@angular/core/testing';
import { paymentRoom } from '@payments-system/protocol';
import { provideRealtimeTesting, RealtimeTestingController } from '@payments-system/realtime/testing';
import { filter, map, switchMap } from 'rxjs';
import { ackRooms, paymentUpdated } from '../spec-helpers/server-messages';
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

// A room() component, the declarative form of joining a room.
@Component({ selector: 'app-payment', template: `{{ status() }}` })
class PaymentComponent {
  readonly id = input.required<string>();
  private readonly realtime = inject(RealtimeService);
  protected readonly status = toSignal(
    toObservable(this.id).pipe(
      switchMap((id) => this.realtime.room(paymentRoom(id))), // joins on first subscriber, leaves after the last
      filter((event) => event.type === 'payment:updated'),
      map((event) => event.payload.status),
    ),
  );
}

describe('documentation examples', () => {
  it('the app.config.ts example connects with the token its factory injects', () => {
    TestBed.configureTestingModule({ providers: [...appConfig.providers, provideRealtimeTesting()] });
    TestBed.inject(RealtimeService);
    expect(TestBed.inject(RealtimeTestingController).latest.bearerToken).toBe('token-from-auth');
  });

  it('calling inject() in the config itself, as the old JSDoc did, fails with NG0203', () => {
    expect(() => provideRealtime({ url: '/ws', token: inject(AuthService).accessToken })).toThrowError(/NG0203/);
  });

  it('the room() component shows the status of its payment', async () => {
    TestBed.configureTestingModule({ providers: [...appConfig.providers, provideRealtimeTesting()] });
    const gateway = TestBed.inject(RealtimeTestingController);
    const fixture = TestBed.createComponent(PaymentComponent);
    fixture.componentRef.setInput('id', 'pay_1');
    await fixture.whenStable();
    gateway.latest.open();
    await fixture.whenStable();
    ackRooms(gateway.latest);
    gateway.latest.receive(paymentUpdated('pay_1', 'processing', undefined, 'payment:pay_1'));
    await fixture.whenStable();
    expect((fixture.nativeElement as HTMLElement).textContent).toBe('processing');
    fixture.destroy();
    expect(gateway.latest.sentOfType('unsubscribe').map((m) => m.payload.room)).toEqual(['payment:pay_1']);
  });
});
