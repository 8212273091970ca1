import { TestBed } from '@angular/core/testing';
import { gatewayWsUrl, mintToken, publish, waitFor } from '../spec-helpers/gateway-control';
import type { RealtimeConfig, WebSocketConstructor } from '../lib/config';
import type { RealtimeError } from '../lib/errors';
import { provideRealtime, withWebSocketConstructor } from '../lib/provide-realtime';
import { RealtimeService, type RealtimeConnectionState } from '../lib/realtime.service';

/** The browser's WebSocket, counting the sockets made and the close codes they ended with. */
function countingWebSocket() {
  const made: WebSocket[] = [];
  const closes: number[] = [];
  const ctor = class extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      made.push(this);
      this.addEventListener('close', (event) => closes.push(event.code));
    }
  } as unknown as WebSocketConstructor;
  return { ctor, made, closes };
}

function setup(config: Omit<RealtimeConfig, 'url'>) {
  const sockets = countingWebSocket();
  TestBed.configureTestingModule({
    providers: [provideRealtime({ url: gatewayWsUrl(), heartbeat: false, ...config }, withWebSocketConstructor(sockets.ctor))],
  });
  const service = TestBed.inject(RealtimeService);
  const states: RealtimeConnectionState[] = [];
  const errors: RealtimeError[] = [];
  service.state$.subscribe((s) => states.push(s));
  service.errors$.subscribe((e) => errors.push(e));
  return { service, states, errors, sockets };
}

describe('in-band token refresh against the real gateway', () => {
  afterEach(() => TestBed.resetTestingModule());

  it('keeps one socket open for a minute on 5-second tokens: no close, no replay, events keep flowing', async () => {
    const user = 'it-inband';
    const refreshToken = jasmine.createSpy('refreshToken').and.callFake(() => mintToken(user, 'CUSTOMER', 5));
    // A lead of half the 5 s lifetime, spread over its last fifth: the refresh starts 2.0–2.5 s before expiry.
    const { service, states, errors, sockets } = setup({ token: await mintToken(user, 'CUSTOMER', 5), refreshToken, tokenRefresh: { jitter: 0.2 } });
    await waitFor(service.state$, (s) => s === 'connected', 'connected');
    const renewals: string[] = [];
    service.on('authenticated').subscribe((m) => renewals.push(m.payload.expiresAt));
    const replays: string[] = [];
    // A replay answers `resumed` with `replayed` (the first connection's position request answers it with 0).
    service.messages$.subscribe((m) => ((m.type === 'resumed' && m.payload.replayed > 0) || m.type === 'recovery:failed') && replays.push(m.type));
    const received: string[] = [];
    service.on('payment:updated').subscribe((m) => received.push(m.id ?? '?'));

    const published: string[] = [];
    const started = Date.now();
    for (let i = 0; Date.now() - started < 60_000; i++) {
      const paymentId = `pay-ib-${i}`;
      const arrived = waitFor(service.on('payment:updated'), (m) => m.payload.paymentId === paymentId, `event ${i}`);
      published.push(await publish({ room: `user:${user}`, type: 'payment:updated', payload: { paymentId, status: 'processing', amount: '1.00', currency: 'EUR' } }));
      await arrived;
      await new Promise((resolve) => setTimeout(resolve, 1000)); // one event a second, as live traffic
    }

    expect(sockets.made.length).toBe(1);
    expect(sockets.closes).toEqual([]);
    expect(states).toEqual(['connecting', 'connected']);
    expect(replays).toEqual([]);
    expect(received).toEqual(published);
    expect(errors).toEqual([]);
    expect(renewals.length).toBeGreaterThanOrEqual(20); // 60 s of 5 s tokens: about one every 2.5–3 s
    expect(refreshToken.calls.count()).toBe(renewals.length);
  }, 90_000);
});
