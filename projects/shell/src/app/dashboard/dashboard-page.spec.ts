import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { computed, signal } from '@angular/core';
import { TestBed, type ComponentFixture } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { NEVER } from 'rxjs';
import { provideEffects } from '@ngrx/effects';
import { provideState, provideStore, Store } from '@ngrx/store';
import type { User } from '@payments-system/protocol';
import { RealtimeService } from '@payments-system/realtime';
import { RealtimePaymentsActions } from '@payments-system/realtime/store';
import { ADA, ALICE, payment } from '../../testing/fakes';
import { AuthService } from '../core/auth.service';
import { appEffects } from '../state/app.effects';
import { noticesFeature } from '../state/notices.feature';
import { paymentsFeature } from '../state/payments.feature';
import { DashboardPage } from './dashboard-page';

describe('DashboardPage (real store and effects, HTTP faked)', () => {
  let fixture: ComponentFixture<DashboardPage>;
  let http: HttpTestingController;
  let el: HTMLElement;

  async function open(user: User) {
    const current = signal<User | null>(user);
    TestBed.configureTestingModule({
      providers: [
        provideHttpClient(),
        provideHttpClientTesting(),
        provideStore(),
        provideState(paymentsFeature),
        provideState(noticesFeature),
        provideEffects(appEffects),
        { provide: AuthService, useValue: { user: current, isSignedIn: computed(() => current() !== null) } },
        { provide: RealtimeService, useValue: { lastEventId: signal(null), presence$: () => NEVER } },
        provideRouter([]),
      ],
    });
    http = TestBed.inject(HttpTestingController);
    fixture = TestBed.createComponent(DashboardPage);
    el = fixture.nativeElement as HTMLElement;
    await fixture.whenStable();
  }

  afterEach(() => http.verify());

  const statusOf = (id: string) => el.querySelector(`tr[data-payment-id="${id}"]`)?.getAttribute('data-status');

  it('loads the payments over HTTP, then applies live updates without a reload, highlighted and announced', async () => {
    await open(ALICE);
    expect(el.querySelector('h1')!.textContent).toContain('Your payments');
    http.expectOne('/api/payments').flush({ payments: [payment({ paymentId: 'pay_1' })] });
    await fixture.whenStable();
    expect(statusOf('pay_1')).toBe('pending');
    expect(el.querySelector('tr[data-payment-id="pay_1"]')!.classList).not.toContain('row--changed');

    TestBed.inject(Store).dispatch(
      RealtimePaymentsActions.paymentUpdated({
        payment: { ...payment({ paymentId: 'pay_1', status: 'processing', updatedAt: '2026-01-01T10:00:03.000Z' }), previousStatus: 'pending' },
        eventId: '7',
        receivedAt: '2026-01-01T10:00:03.000Z',
      }),
    );
    await fixture.whenStable();
    const tr = el.querySelector('tr[data-payment-id="pay_1"]')!;
    expect(statusOf('pay_1')).toBe('processing');
    expect(tr.classList).toContain('row--changed');
    expect(tr.textContent).toContain('was Pending');
    expect(el.querySelector('p[role="status"][aria-live="polite"]')!.textContent).toContain('“Coffee beans” is now processing');
    // The customer gets the create form, not the admin tools.
    expect(el.querySelector('app-create-payment-form')).not.toBeNull();
    expect(el.querySelector('app-broadcast-form')).toBeNull();
  });

  it('lets an admin move a payment on; the answer updates the row', async () => {
    await open(ADA);
    http.expectOne('/api/payments').flush({ payments: [payment({ paymentId: 'pay_1', status: 'processing' })] });
    await fixture.whenStable();
    expect(el.querySelector('app-broadcast-form')).not.toBeNull();
    el.querySelector<HTMLButtonElement>('tr[data-payment-id="pay_1"] button[data-action="completed"]')!.click();
    await fixture.whenStable();
    expect(el.querySelector('tr[data-payment-id="pay_1"]')!.textContent).toContain('Moving to Completed');
    const req = http.expectOne('/api/payments/pay_1');
    expect(req.request.method).toBe('PATCH');
    expect(req.request.body).toEqual({ status: 'completed' });
    req.flush(payment({ paymentId: 'pay_1', status: 'completed', updatedAt: '2026-01-01T10:01:00.000Z' }));
    await fixture.whenStable();
    expect(statusOf('pay_1')).toBe('completed');
    expect(el.querySelector('tr[data-payment-id="pay_1"] button[data-action="refunded"]')).not.toBeNull();
  });

  it('tells the user when the list cannot be loaded, with a way to try again', async () => {
    await open(ALICE);
    http.expectOne('/api/payments').flush({ error: { code: 'INTERNAL', message: 'internal error' } }, { status: 500, statusText: 'Error' });
    await fixture.whenStable();
    const alert = el.querySelector('[role="alert"]')!;
    expect(alert.textContent).toContain('Internal error');
    alert.querySelector('button')!.click();
    http.expectOne('/api/payments').flush({ payments: [] });
    await fixture.whenStable();
    expect(el.querySelector('.empty')!.textContent).toContain('No payments yet');
  });
});
