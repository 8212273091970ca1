import { TestBed } from '@angular/core/testing';
import type { ServerMessage } from '@payments-system/protocol';
import { gatewayWsUrl, mintToken, publish, startGateway, stopGateway, waitFor } from '../spec-helpers/gateway-control';
import type { RealtimeConfig } from '../lib/config';
import { RealtimeRequestError } from '../lib/errors';
import { provideRealtime, withQueryParamToken, type RealtimeFeature } from '../lib/provide-realtime';
import { RealtimeService, type RealtimeConnectionState } from '../lib/realtime.service';

const payment = (paymentId: string, status: 'processing' | 'completed' = 'completed') =>
  ({ paymentId, status, amount: '42.50', currency: 'EUR' }) as const;

function setup(config: Omit<RealtimeConfig, 'url'>, ...features: RealtimeFeature[]) {
  TestBed.configureTestingModule({
    providers: [
      provideRealtime(
        // Short delays keep the run fast; the schedule itself is covered by the unit specs.
        { url: gatewayWsUrl(), reconnect: { delaysMs: [300, 600, 1200], jitter: 'equal' }, heartbeat: false, ...config },
        ...features,
      ),
    ],
  });
  const service = TestBed.inject(RealtimeService);
  const states: RealtimeConnectionState[] = [];
  service.state$.subscribe((s) => states.push(s));
  return { service, states };
}

describe('RealtimeService against the real gateway', () => {
  afterEach(() => TestBed.resetTestingModule());

  it('connects with the bearer subprotocol and receives a published payment:updated', async () => {
    const { service } = setup({ token: await mintToken('it-alice') });
    await waitFor(service.state$, (s) => s === 'connected', 'connected');
    const received = waitFor(service.on('payment:updated'), (m) => m.payload.paymentId === 'pay-it-1', 'payment:updated');
    const id = await publish({ room: 'user:it-alice', type: 'payment:updated', payload: payment('pay-it-1') });
    const message: ServerMessage<'payment:updated'> = await received;
    expect(message.payload).toEqual(jasmine.objectContaining({ paymentId: 'pay-it-1', status: 'completed', amount: '42.50' }));
    expect(message.id).toBe(id);
  });

  it('connects with ?token= when asked to', async () => {
    const { service } = setup({ token: await mintToken('it-query') }, withQueryParamToken());
    await waitFor(service.state$, (s) => s === 'connected', 'connected');
    const pong = waitFor(service.on('pong'), (m) => m.correlationId === 'q-ping', 'pong');
    service.send({ type: 'ping', correlationId: 'q-ping' });
    expect((await pong).type).toBe('pong');
  });

  it('gateway restarted → reconnecting → connected → rooms re-subscribed → a new event arrives', async () => {
    const { service, states } = setup({ token: await mintToken('it-admin', 'ADMIN') });
    await waitFor(service.state$, (s) => s === 'connected', 'connected');
    const ack = await service.subscribe('payment:pay-restart');
    expect(ack.room).toBe('payment:pay-restart');

    await stopGateway();
    await waitFor(service.state$, (s) => s === 'reconnecting', 'reconnecting');
    expect(service.lastError()).toEqual(jasmine.objectContaining({ kind: 'closed-by-server', closeCode: 1001 }));
    await waitFor(service.connection$, (s) => s.attempt >= 2, 'a failed retry while the gateway is down');

    const resubscribed = waitFor(
      service.on('subscribed'),
      (m) => m.payload.room === 'payment:pay-restart',
      're-subscription of payment:pay-restart',
    );
    await startGateway();
    await waitFor(service.state$, (s) => s === 'connected', 'connected again');
    await resubscribed;

    const received = waitFor(service.room('payment:pay-restart'), (e) => e.type === 'payment:updated', 'event after restart');
    await publish({ room: 'payment:pay-restart', type: 'payment:updated', payload: payment('pay-restart', 'processing') });
    expect((await received).payload).toEqual(jasmine.objectContaining({ paymentId: 'pay-restart', status: 'processing' }));
    expect(states).toEqual(['connecting', 'connected', 'reconnecting', 'connected']);
  });

  it('resumes after a disconnect: the events missed meanwhile arrive once, in order, then `resumed`', async () => {
    const { service } = setup({ token: await mintToken('it-resume') });
    await waitFor(service.state$, (s) => s === 'connected', 'connected');
    const first = waitFor(service.on('payment:updated'), (m) => m.payload.paymentId === 'pay-r0', 'the event before the disconnect');
    await publish({ room: 'user:it-resume', type: 'payment:updated', payload: payment('pay-r0') });
    await first;

    service.disconnect();
    const missed = [];
    for (const id of ['pay-r1', 'pay-r2', 'pay-r3']) {
      missed.push(await publish({ room: 'user:it-resume', type: 'payment:updated', payload: payment(id) }));
    }
    const seen: string[] = [];
    service.on('payment:updated').subscribe((m) => seen.push(m.id ?? '?'));
    const resumed = waitFor(service.on('resumed'), () => true, 'resumed');
    service.connect();
    expect((await resumed).payload.replayed).toBe(3);
    expect(seen).toEqual(missed);
    expect(service.lastEventId()).toBe(missed[2]);
  });

  it('after a gateway restart (in-memory history gone) → recovery:failed, and live events flow again', async () => {
    const { service } = setup({ token: await mintToken('it-recovery') });
    await waitFor(service.state$, (s) => s === 'connected', 'connected');
    const first = waitFor(service.on('payment:updated'), () => true, 'an event before the restart');
    await publish({ room: 'user:it-recovery', type: 'payment:updated', payload: payment('pay-f0') });
    await first;
    const failed = waitFor(service.on('recovery:failed'), () => true, 'recovery:failed');
    await stopGateway();
    await startGateway();
    expect((await failed).payload.reason).toBe('too-old');
    const live = waitFor(service.on('payment:updated'), (m) => m.payload.paymentId === 'pay-f1', 'a live event after recovery failed');
    await publish({ room: 'user:it-recovery', type: 'payment:updated', payload: payment('pay-f1') });
    await live;
  });

  it('an expired token → refreshToken() → connected', async () => {
    const expired = await mintToken('it-bob', 'CUSTOMER', -60);
    const refreshToken = jasmine.createSpy('refreshToken').and.callFake(() => mintToken('it-bob'));
    const { service } = setup({ token: expired, refreshToken });
    await waitFor(service.state$, (s) => s === 'connected', 'connected after refresh');
    expect(refreshToken).toHaveBeenCalledTimes(1);
    expect(service.attempt()).toBe(0);
    const received = waitFor(service.on('payment:updated'), (m) => m.payload.paymentId === 'pay-bob', 'event for bob');
    await publish({ room: 'user:it-bob', type: 'payment:updated', payload: payment('pay-bob') });
    expect((await received).payload.paymentId).toBe('pay-bob');
  });

  it('a token expiring while connected (4001) → refresh → connected again (in-band refresh off)', async () => {
    const refreshToken = jasmine.createSpy('refreshToken').and.callFake(() => mintToken('it-carol'));
    const { service, states } = setup({ token: await mintToken('it-carol', 'CUSTOMER', 2), refreshToken, tokenRefresh: false });
    await waitFor(service.state$, (s) => s === 'connected', 'connected');
    await waitFor(service.state$, (s) => s === 'reconnecting', 'the gateway closing the expired session', 8000);
    await waitFor(service.state$, (s) => s === 'connected', 'connected with the refreshed token');
    expect(refreshToken).toHaveBeenCalledTimes(1);
    expect(states).toEqual(['connecting', 'connected', 'reconnecting', 'connected']);
  });

  it('keeps a live connection up with the application ping: the gateway answers each ping with pong', async () => {
    const { service } = setup({ token: await mintToken('it-heart'), heartbeat: { intervalMs: 150, timeoutMs: 100 } });
    await waitFor(service.state$, (s) => s === 'connected', 'connected');
    let pongs = 0;
    await waitFor(service.on('pong'), () => ++pongs === 3, 'three pongs');
    expect(service.state()).toBe('connected');
    expect(service.lastError()).toBeNull();
  });

  it('a forbidden room → a typed FORBIDDEN error', async () => {
    const { service } = setup({ token: await mintToken('it-dave') });
    await waitFor(service.state$, (s) => s === 'connected', 'connected');
    const error = await service.subscribe('payment:not-yours').then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RealtimeRequestError);
    expect(error).toEqual(jasmine.objectContaining({ code: 'FORBIDDEN', room: 'payment:not-yours' }));
    expect(service.state()).toBe('connected');
  });
});
