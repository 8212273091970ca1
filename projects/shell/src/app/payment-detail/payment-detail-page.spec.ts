import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { computed, signal } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { provideEffects } from '@ngrx/effects';
import { provideState, provideStore } from '@ngrx/store';
import type { User } from '@payments-system/protocol';
import { provideRealtime } from '@payments-system/realtime';
import { provideRealtimeTesting, RealtimeTestingController } from '@payments-system/realtime/testing';
import { ADA, payment } from '../../testing/fakes';
import { AuthService } from '../core/auth.service';
import { appEffects } from '../state/app.effects';
import { noticesFeature } from '../state/notices.feature';
import { paymentsFeature } from '../state/payments.feature';
import { PaymentDetailPage } from './payment-detail-page';

const TS = '2026-01-01T10:00:00.000Z';

describe('PaymentDetailPage', () => {
  function render(user: User) {
    TestBed.configureTestingModule({
      providers: [
        provideHttpClient(),
        provideHttpClientTesting(),
        provideRouter([]),
        provideStore(),
        provideState(paymentsFeature),
        provideState(noticesFeature),
        provideEffects(appEffects),
        provideRealtime({ url: '/ws', token: 'token', heartbeat: false }),
        provideRealtimeTesting(),
        { provide: AuthService, useValue: { user: signal(user), isSignedIn: computed(() => true), accessToken: () => 'token' } },
      ],
    });
    const gateway = TestBed.inject(RealtimeTestingController);
    gateway.latest.open();
    const fixture = TestBed.createComponent(PaymentDetailPage);
    fixture.componentRef.setInput('paymentId', 'pay_7');
    TestBed.inject(HttpTestingController).expectOne('/api/payments').flush({ payments: [payment({ paymentId: 'pay_7', description: 'Garden chairs' })] });
    return { fixture, gateway, el: fixture.nativeElement as HTMLElement };
  }

  it('is in the payment’s room while open, and shows who else has it open (not me, in any tab)', async () => {
    const { fixture, gateway, el } = render(ADA);
    await fixture.whenStable();
    expect(el.querySelector('h1')!.textContent).toContain('Garden chairs');
    expect(gateway.latest.sentOfType('subscribe').map((m) => m.payload.room)).toEqual(['payment:pay_7']);
    const watch = gateway.latest.sentOfType('presence')[0]!;
    expect(watch.payload).toEqual({ room: 'payment:pay_7', watch: true });
    gateway.latest.receive({
      type: 'presence',
      payload: { room: 'payment:pay_7', members: [{ userId: 'admin_1', role: 'ADMIN', connections: 2 }] },
      timestamp: TS,
      correlationId: watch.correlationId,
    });
    await fixture.whenStable();
    expect(el.querySelector('[role="status"][aria-label="Also viewing"]')!.textContent).toContain('Nobody else is looking at this payment.');

    gateway.latest.receive({ type: 'presence:joined', payload: { room: 'payment:pay_7', userId: 'alice', role: 'CUSTOMER' }, timestamp: TS });
    await fixture.whenStable();
    expect(el.querySelector('.viewers')!.textContent).toMatch(/Also looking at this payment:\s+alice \(customer\)/);

    fixture.destroy();
    expect(gateway.latest.sentOfType('unsubscribe').map((m) => m.payload.room)).toEqual(['payment:pay_7']);
    expect(gateway.latest.sentOfType('presence').at(-1)!.payload).toEqual({ room: 'payment:pay_7', watch: false });
  });
});
