import { TestBed } from '@angular/core/testing';
import { provideStore, Store } from '@ngrx/store';
import { gatewayWsUrl, mintToken, publish, waitFor } from '../spec-helpers/gateway-control';
import { provideRealtime } from '../lib/provide-realtime';
import { RealtimeService } from '../lib/realtime.service';
import {
  provideRealtimeStore,
  realtimeConnectionFeature,
  realtimePaymentsFeature,
  RealtimeSessionActions,
} from '@payments-system/realtime/store';
import { Actions, ofType } from '@ngrx/effects';

describe('provideRealtimeStore() with the real store fed by the real gateway', () => {
  afterEach(() => TestBed.resetTestingModule());

  it('puts the connection state and published payments into the store, and turns session:sync logout into an action', async () => {
    const token = await mintToken('it-store-erin');
    TestBed.configureTestingModule({
      providers: [
        provideStore(),
        provideRealtime({ url: gatewayWsUrl(), token, heartbeat: false }),
        provideRealtimeStore(),
      ],
    });
    const store = TestBed.inject(Store);
    const actions = TestBed.inject(Actions);
    TestBed.inject(RealtimeService);

    await waitFor(store.select(realtimeConnectionFeature.selectState), (s) => s === 'connected', 'connected in the store');

    await publish({
      room: 'user:it-store-erin',
      type: 'payment:updated',
      payload: { paymentId: 'pay-store-1', status: 'processing', amount: '10.00', currency: 'USD' },
    });
    await publish({
      room: 'user:it-store-erin',
      type: 'payment:updated',
      payload: { paymentId: 'pay-store-1', status: 'completed', previousStatus: 'processing', amount: '10.00', currency: 'USD' },
    });
    const payment = await waitFor(
      store.select(realtimePaymentsFeature.selectPayment('pay-store-1')),
      (p) => p?.status === 'completed',
      'the completed payment in the store',
    );
    expect(payment).toEqual(jasmine.objectContaining({ paymentId: 'pay-store-1', amount: '10.00', currency: 'USD' }));
    expect(payment?.lastEventId).toEqual(jasmine.any(String));
    expect(await waitFor(store.select(realtimePaymentsFeature.selectTotal), () => true, 'total')).toBe(1);

    const logout = waitFor(actions.pipe(ofType(RealtimeSessionActions.logoutRequested)), () => true, 'Logout Requested');
    await publish({
      room: 'user:it-store-erin',
      type: 'session:sync',
      payload: { userId: 'it-store-erin', sessionId: 'sess-1', action: 'logout' },
    });
    expect((await logout).session.sessionId).toBe('sess-1');
    // disconnectOnLogout$ closed the socket
    await waitFor(store.select(realtimeConnectionFeature.selectState), (s) => s === 'disconnected', 'disconnected in the store');
  });
});
