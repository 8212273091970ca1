// Runs the README's NgRx configuration (not itself in the README): the reload sends the token, a failed reload
// shows in the store, and a logout from the gateway signs out, goes to /login and empties the payments.
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { NavigationEnd, Router } from '@angular/router';
import { Store } from '@ngrx/store';
import type { ServerMessage } from '@payments-system/protocol';
import { RealtimeService } from '@payments-system/realtime';
import { realtimePaymentsFeature } from '@payments-system/realtime/store';
import { provideRealtimeTesting, RealtimeTestingController } from '@payments-system/realtime/testing';
import { filter, firstValueFrom } from 'rxjs';
import { AuthService } from '../auth.service';
import { appConfig } from './app.config';

const at = new Date().toISOString();
const payment = (paymentId: string): ServerMessage =>
  ({ type: 'payment:updated', payload: { paymentId, status: 'pending', amount: '1.00', currency: 'EUR' }, timestamp: at, room: 'user:alice' });

describe('the NgRx configuration of the README', () => {
  it('reloads with the token, shows a failed reload, and ends the session on a logout from elsewhere', async () => {
    TestBed.configureTestingModule({ providers: [...appConfig.providers, provideHttpClientTesting(), provideRealtimeTesting()] });
    TestBed.inject(AuthService).accessToken.set('token-a'); // signed in
    TestBed.tick();
    const gateway = TestBed.inject(RealtimeTestingController);
    const http = TestBed.inject(HttpTestingController);
    const store = TestBed.inject(Store);
    gateway.latest.open();

    gateway.latest.receive(payment('p1'));
    expect(store.selectSignal(realtimePaymentsFeature.selectTotal)()).toBe(1);

    gateway.latest.receive({ type: 'recovery:failed', payload: { since: '1765447200000-1', reason: 'too-old' }, timestamp: at });
    const reload = http.expectOne('/api/payments');
    expect(reload.request.headers.get('authorization')).toBe('Bearer token-a');
    reload.flush({ payments: [{ paymentId: 'p2', ownerId: 'alice', amount: '2.00', currency: 'EUR', description: 'x', status: 'completed', createdAt: at, updatedAt: at }] });
    expect(store.selectSignal(realtimePaymentsFeature.selectIds)()).toEqual(['p2']);

    gateway.latest.receive({ type: 'recovery:failed', payload: { since: '1765447200000-2', reason: 'too-old' }, timestamp: at });
    http.expectOne('/api/payments').flush({ error: { code: 'UNAUTHORIZED', message: 'token expired' } }, { status: 401, statusText: 'Unauthorized' });
    expect(store.selectSignal(realtimePaymentsFeature.selectReloadError)()).toContain('401 Unauthorized');

    const router = TestBed.inject(Router);
    const navigated = firstValueFrom(router.events.pipe(filter((e) => e instanceof NavigationEnd)));
    gateway.latest.receive({ type: 'session:sync', payload: { userId: 'alice', sessionId: 's1', action: 'logout' }, timestamp: at });
    await navigated;
    TestBed.tick();
    expect(TestBed.inject(AuthService).accessToken()).toBeNull();
    expect(router.url).toBe('/login');
    expect(TestBed.inject(RealtimeService).state()).toBe('disconnected');
    expect(store.selectSignal(realtimePaymentsFeature.selectTotal)()).toBe(0);
    http.verify();
  });
});
