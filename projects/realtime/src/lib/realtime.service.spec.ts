import { inject, InjectionToken, PLATFORM_ID, signal } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideRealtimeTesting, RealtimeTestingController } from '@payments-system/realtime/testing';
import type { ServerMessage } from '@payments-system/protocol';
import { asyncScheduler, BehaviorSubject, of, throwError } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { ackRooms, fakeJwt, paymentUpdated, settle, TS } from '../spec-helpers/server-messages';
import type { RealtimeConfig } from './config';
import type { RealtimeError } from './errors';
import { RealtimeRequestError } from './errors';
import { provideRealtime, withQueryParamToken } from './provide-realtime';
import { RealtimeService, type RealtimeConnectionState } from './realtime.service';

const URL = 'ws://gateway.test/ws';

function setup(overrides: Partial<RealtimeConfig> = {}, extra: { server?: boolean; query?: boolean } = {}) {
  TestBed.configureTestingModule({
    providers: [
      provideRealtime(
        { url: URL, token: 'token-1', autoConnect: false, heartbeat: false, reconnect: { jitter: 'none' }, ...overrides },
        ...(extra.query ? [withQueryParamToken()] : []),
      ),
      provideRealtimeTesting(),
      ...(extra.server ? [{ provide: PLATFORM_ID, useValue: 'server' }] : []),
    ],
  });
  const service = TestBed.inject(RealtimeService);
  const ctl = TestBed.inject(RealtimeTestingController);
  const states: RealtimeConnectionState[] = [];
  const errors: RealtimeError[] = [];
  service.state$.subscribe((s) => states.push(s));
  service.errors$.subscribe((e) => errors.push(e));
  return { service, ctl, states, errors };
}

describe('RealtimeService (unit, virtual time)', () => {
  let clock: jasmine.Clock;

  beforeEach(() => {
    clock = jasmine.clock();
    clock.install();
    clock.mockDate(new Date('2026-12-11T10:00:00Z'));
  });
  afterEach(() => {
    TestBed.inject(RealtimeTestingController).verify(); // no earlier socket left open
    TestBed.resetTestingModule(); // destroys the service (disconnect) while the clock is still fake
    clock.uninstall();
  });

  describe('connecting', () => {
    it('offers the token in the bearer subprotocol by default, keeping it out of the URL', () => {
      const { service, ctl } = setup();
      service.connect();
      expect(ctl.latest.url).toBe(URL);
      expect(ctl.latest.protocols).toEqual(['bearer', 'token-1']);
      ctl.latest.open('bearer');
      expect(service.state()).toBe('connected');
      expect(service.isConnected()).toBeTrue();
    });

    it('puts the token in ?token= with withQueryParamToken()', () => {
      const { service, ctl } = setup({}, { query: true });
      service.connect();
      expect(ctl.latest.url).toBe(`${URL}?token=token-1`);
      expect(ctl.latest.protocols).toEqual([]);
    });

    it('goes disconnected → connecting → connected → reconnecting → connected → disconnected, emitting only real changes', () => {
      const { service, ctl, states } = setup();
      service.connect();
      service.connect(); // no-op while connecting
      ctl.latest.open();
      ctl.latest.serverClose(1001, 'server shutting down');
      clock.tick(1000);
      ctl.latest.open();
      service.disconnect();
      expect(states).toEqual(['disconnected', 'connecting', 'connected', 'reconnecting', 'connected', 'disconnected']);
      expect(ctl.sockets.length).toBe(2);
      expect(ctl.sockets[1].closedByClient).toEqual({ code: 1000, reason: 'client disconnect' });
    });

    it('never opens a socket on the server platform (SSR)', () => {
      const { service, ctl } = setup({ autoConnect: true }, { server: true });
      service.connect();
      service.reconnect();
      expect(ctl.sockets.length).toBe(0);
      expect(service.state()).toBe('disconnected');
      expect(service.send({ type: 'ping' })).toBeFalse();
    });

    it('connects by itself with autoConnect (the default)', () => {
      const { ctl } = setup({ autoConnect: true });
      expect(ctl.sockets.length).toBe(1);
    });
  });

  describe('reconnection with backoff', () => {
    it('waits exactly 1, 2, 4, 8, 16, 30, 30, 30, 30, 30 s, then gives up: disconnected with an error', () => {
      // Virtual time with the RxJS TestScheduler: record when each socket is created.
      const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
      clock.uninstall(); // TestScheduler owns time in this spec
      scheduler.run(({ flush }) => {
        const { service, ctl, errors } = setup();
        const createdAt: number[] = [];
        const retryAt: Array<number | null> = [];
        service.connection$.subscribe((s) => {
          if (s.state === 'reconnecting' && s.nextRetryAt !== null) retryAt.push(s.nextRetryAt);
        });
        ctl.created.subscribe((socket) => {
          createdAt.push(asyncScheduler.now());
          asyncScheduler.schedule(() => socket.drop()); // every handshake fails
        });
        service.connect();
        flush();
        expect(createdAt).toEqual([0, 1000, 3000, 7000, 15000, 31000, 61000, 91000, 121000, 151000, 181000]);
        expect(retryAt).toEqual([1000, 3000, 7000, 15000, 31000, 61000, 91000, 121000, 151000, 181000]);
        expect(service.state()).toBe('disconnected');
        expect(service.lastError()?.kind).toBe('network');
        expect(service.lastError()?.message).toMatch(/gave up after 10 attempts/);
        expect(errors.length).toBe(11);
      });
      clock.install(); // afterEach uninstalls
    });

    it('exposes the attempt and the next retry time for a countdown', () => {
      const { service, ctl } = setup();
      service.connect();
      ctl.latest.drop();
      expect(service.state()).toBe('reconnecting');
      expect(service.attempt()).toBe(1);
      expect(service.nextRetryAt()).toBe(Date.now() + 1000);
      clock.tick(999);
      expect(ctl.sockets.length).toBe(1);
      clock.tick(1);
      expect(ctl.sockets.length).toBe(2);
      expect(service.nextRetryAt()).toBeNull();
      ctl.latest.drop();
      expect(service.attempt()).toBe(2);
      expect(service.nextRetryAt()).toBe(Date.now() + 2000);
    });

    it('applies jitter by default (equal jitter: between half and all of the delay)', () => {
      const { service, ctl } = setup({ reconnect: {} });
      ctl.randomValue = 0;
      service.connect();
      ctl.latest.drop();
      expect(service.nextRetryAt()).toBe(Date.now() + 500);
      clock.tick(500);
      expect(ctl.sockets.length).toBe(2);
      ctl.randomValue = 0.999999;
      ctl.latest.drop();
      expect(service.nextRetryAt()! - Date.now()).toBe(1999);
    });

    it('resets the schedule after a successful connection', () => {
      const { service, ctl } = setup();
      service.connect();
      ctl.latest.drop();
      clock.tick(1000);
      ctl.latest.drop();
      clock.tick(2000);
      ctl.latest.open();
      expect(service.attempt()).toBe(0);
      ctl.latest.serverClose(1001);
      expect(service.attempt()).toBe(1);
      expect(service.nextRetryAt()).toBe(Date.now() + 1000);
    });

    it('reconnect() after giving up starts a fresh schedule', () => {
      const { service, ctl } = setup({ reconnect: { maxAttempts: 1, jitter: 'none' } });
      service.connect();
      ctl.latest.drop();
      clock.tick(1000);
      ctl.latest.drop();
      expect(service.state()).toBe('disconnected');
      service.reconnect();
      expect(service.state()).toBe('connecting');
      expect(ctl.sockets.length).toBe(3);
      ctl.latest.drop();
      expect(service.attempt()).toBe(1);
      expect(service.nextRetryAt()).toBe(Date.now() + 1000);
    });

    it('retries at once when the browser goes back online, while waiting and after giving up', () => {
      const { service, ctl } = setup({ reconnect: { maxAttempts: 1, jitter: 'none' } });
      service.connect();
      ctl.latest.drop();
      ctl.goOnline();
      expect(ctl.sockets.length).toBe(2); // no 1 s wait
      ctl.latest.drop();
      expect(service.state()).toBe('disconnected');
      ctl.goOnline();
      expect(ctl.sockets.length).toBe(3);
      ctl.latest.open();
      expect(service.state()).toBe('connected');
    });

    it('treats a clean server close (1001) as a reason to reconnect, reported as closed-by-server', () => {
      const { service, ctl } = setup();
      service.connect();
      ctl.latest.open();
      ctl.latest.serverClose(1001, 'server shutting down');
      expect(service.state()).toBe('reconnecting');
      expect(service.lastError()).toEqual(jasmine.objectContaining({ kind: 'closed-by-server', closeCode: 1001 }));
      clock.tick(1000);
      ctl.latest.open();
      expect(service.lastError()).toBeNull();
    });

    it('stops on 4003 (session revoked) with an auth error, and on 1000 with closed-by-server', () => {
      const { service, ctl } = setup();
      service.connect();
      ctl.latest.open();
      ctl.latest.serverClose(4003, 'session revoked');
      expect(service.state()).toBe('disconnected');
      expect(service.lastError()).toEqual(jasmine.objectContaining({ kind: 'auth', closeCode: 4003 }));
      clock.tick(60_000);
      expect(ctl.sockets.length).toBe(1);
      service.connect();
      ctl.latest.open();
      ctl.latest.serverClose(1000);
      expect(service.state()).toBe('disconnected');
      expect(service.lastError()?.kind).toBe('closed-by-server');
    });

    it('never retries with reconnect: false', () => {
      const { service, ctl } = setup({ reconnect: false });
      service.connect();
      ctl.latest.drop();
      expect(service.state()).toBe('disconnected');
      clock.tick(60_000);
      expect(ctl.sockets.length).toBe(1);
    });
  });

  describe('token refresh', () => {
    it('on 4001 calls refreshToken() and reconnects at once with the new token, spending no attempt', async () => {
      const refreshToken = jasmine.createSpy('refreshToken').and.returnValue(Promise.resolve('token-2'));
      const { service, ctl } = setup({ refreshToken });
      service.connect();
      ctl.latest.open();
      ctl.latest.serverClose(4001, 'token expired');
      expect(refreshToken).toHaveBeenCalledTimes(1);
      expect(service.state()).toBe('reconnecting');
      expect(service.attempt()).toBe(0);
      await settle();
      expect(ctl.sockets.length).toBe(2);
      expect(ctl.latest.bearerToken).toBe('token-2');
      ctl.latest.open();
      expect(service.state()).toBe('connected');
    });

    it('refreshes when the handshake is refused while the token is expired (decoded exp)', () => {
      const expired = fakeJwt(Math.floor(Date.now() / 1000) - 60);
      const fresh = fakeJwt(Math.floor(Date.now() / 1000) + 600);
      const refreshToken = jasmine.createSpy('refreshToken').and.returnValue(of(fresh));
      const { service, ctl } = setup({ token: expired, refreshToken });
      service.connect();
      ctl.latest.drop(); // HTTP 401: the browser only sees 1006 without open
      expect(refreshToken).toHaveBeenCalledTimes(1);
      expect(ctl.sockets.length).toBe(2);
      expect(ctl.latest.bearerToken).toBe(fresh);
      expect(service.attempt()).toBe(0);
    });

    it('ends disconnected with an auth error when the refresh is refused (refreshToken gives null)', async () => {
      const refreshToken = jasmine.createSpy('refreshToken').and.returnValue(of(null));
      const { service, ctl } = setup({ refreshToken });
      service.connect();
      ctl.latest.open();
      ctl.latest.serverClose(4001);
      expect(refreshToken).toHaveBeenCalledOnceWith('token-1');
      expect(service.state()).toBe('disconnected');
      expect(service.lastError()).toEqual(jasmine.objectContaining({ kind: 'auth', closeCode: 4001 }));
      expect(service.lastError()?.message).toMatch(/refresh refused/);
      clock.tick(60_000);
      expect(ctl.sockets.length).toBe(1);
    });

    it('backs off and tries again when the refresh cannot be made (refreshToken rejects)', () => {
      const refreshToken = jasmine
        .createSpy('refreshToken')
        .and.returnValues(throwError(() => new Error('network down')), of('token-2'));
      const { service, ctl } = setup({ refreshToken });
      service.connect();
      ctl.latest.open();
      ctl.latest.serverClose(4001);
      expect([service.state(), service.attempt(), service.nextRetryAt()]).toEqual(['reconnecting', 1, Date.now() + 1000]);
      expect(service.lastError()).toEqual(jasmine.objectContaining({ kind: 'auth', message: 'token refresh failed: network down' }));
      clock.tick(1000); // the retry uses the old token again: its 4001 asks for a refresh once more
      expect(ctl.sockets.length).toBe(2);
      ctl.latest.open();
      ctl.latest.serverClose(4001);
      expect(refreshToken).toHaveBeenCalledTimes(2);
      expect(ctl.latest.bearerToken).toBe('token-2');
    });

    it('does not loop when the refreshed token is refused again', () => {
      const stillExpired = fakeJwt(Math.floor(Date.now() / 1000) - 1);
      const refreshToken = jasmine.createSpy('refreshToken').and.returnValue(of(stillExpired));
      const { service, ctl } = setup({ token: stillExpired, refreshToken });
      service.connect();
      ctl.latest.drop();
      ctl.latest.drop();
      expect(refreshToken).toHaveBeenCalledTimes(1);
      expect(service.state()).toBe('disconnected');
      expect(service.lastError()?.kind).toBe('auth');
    });

    it('without refreshToken, a 4001 ends disconnected with an auth error', () => {
      const { service, ctl } = setup();
      service.connect();
      ctl.latest.open();
      ctl.latest.serverClose(4001);
      expect(service.state()).toBe('disconnected');
      expect(service.lastError()?.kind).toBe('auth');
    });

    it('reconnects with the new token when the app token (a signal) changes', () => {
      const token = signal<string | null>('login-1');
      const { service, ctl } = setup({ token });
      service.connect();
      ctl.latest.open();
      token.set('login-2');
      TestBed.tick(); // runs the token effect
      expect(ctl.sockets.length).toBe(2);
      expect(ctl.latest.bearerToken).toBe('login-2');
      expect(ctl.sockets[0].closedByClient?.code).toBe(1000);
    });

    it('accepts a token factory and a refreshToken that use inject() (the app.config.ts form)', async () => {
      const AUTH = new InjectionToken<{ token: string; refresh: () => Promise<string> }>('AUTH');
      TestBed.configureTestingModule({
        providers: [{ provide: AUTH, useValue: { token: 'from-di', refresh: () => Promise.resolve('refreshed-from-di') } }],
      });
      const { service, ctl } = setup({ token: () => inject(AUTH).token, refreshToken: () => inject(AUTH).refresh() });
      service.connect();
      expect(ctl.latest.bearerToken).toBe('from-di');
      ctl.latest.open();
      ctl.latest.serverClose(4001);
      await settle();
      expect(ctl.latest.bearerToken).toBe('refreshed-from-di');
    });

    it('waits for the first token of an observable source, and closes when it becomes null', () => {
      const token = new BehaviorSubject<string | null>(null);
      const { service, ctl } = setup({ token });
      service.connect();
      expect(service.state()).toBe('connecting');
      expect(ctl.sockets.length).toBe(0);
      token.next('login-1');
      expect(ctl.latest.bearerToken).toBe('login-1');
      ctl.latest.open();
      token.next(null);
      expect(service.state()).toBe('disconnected');
      token.next('login-2');
      expect(ctl.sockets.length).toBe(2);
      expect(ctl.latest.bearerToken).toBe('login-2');
    });

    it('connects straight away when the first token arrives, without a detour through reconnecting', () => {
      const token = new BehaviorSubject<string | null>(null);
      const { service, ctl, states } = setup({ token });
      service.connect();
      token.next('login-1');
      ctl.latest.open();
      expect(states).toEqual(['disconnected', 'connecting', 'connected']);
      expect(ctl.sockets.length).toBe(1);
    });
  });

  describe('rooms', () => {
    it('subscribe() resolves with the ack matched by correlationId', async () => {
      const { service, ctl } = setup();
      service.connect();
      ctl.latest.open();
      const ack = service.subscribe('payment:p1');
      const [sent] = ctl.latest.sentOfType('subscribe');
      expect(sent.payload?.room).toBe('payment:p1');
      // an unrelated reply must not settle it
      ctl.latest.receive({ type: 'subscribed', payload: { room: 'payment:p1' }, timestamp: TS, correlationId: 'other' });
      ackRooms(ctl.latest);
      await expectAsync(ack).toBeResolvedTo({ room: 'payment:p1', correlationId: sent.correlationId });
    });

    it('subscribe() rejects with a typed FORBIDDEN error, and the room is not re-requested later', async () => {
      const { service, ctl } = setup();
      service.connect();
      ctl.latest.open();
      const ack = service.subscribe('user:someone-else');
      ackRooms(ctl.latest, ['user:someone-else']);
      await expectAsync(ack).toBeRejectedWith(jasmine.objectContaining({ code: 'FORBIDDEN', room: 'user:someone-else' }));
      await ack.catch((e: unknown) => expect(e).toBeInstanceOf(RealtimeRequestError));
      ctl.latest.serverClose(1001);
      clock.tick(1000);
      ctl.latest.open();
      expect(ctl.latest.sentOfType('subscribe').length).toBe(0);
    });

    it('subscribe() rejects with TIMEOUT when the gateway does not answer in requestTimeoutMs', async () => {
      const { service, ctl } = setup({ requestTimeoutMs: 3000 });
      service.connect();
      ctl.latest.open();
      const ack = service.subscribe('payment:p1');
      clock.tick(3000);
      await expectAsync(ack).toBeRejectedWith(jasmine.objectContaining({ code: 'TIMEOUT' }));
    });

    it('rejects a name that is not a room without sending anything', async () => {
      const { service, ctl } = setup();
      service.connect();
      ctl.latest.open();
      await expectAsync(service.subscribe('admin:all' as never)).toBeRejectedWith(jasmine.objectContaining({ code: 'BAD_REQUEST' }));
      expect(ctl.latest.messages.map((m) => m.type)).toEqual(['resume']); // only the position request of the connection
    });

    it('re-subscribes every room after each reconnect, without the app doing anything', async () => {
      const { service, ctl } = setup();
      service.connect();
      ctl.latest.open();
      const ack = service.subscribe('payment:p1');
      ackRooms(ctl.latest);
      await ack;
      const events: string[] = [];
      const sub = service.room('payment:p2').subscribe((e) => events.push(e.type));
      ackRooms(ctl.latest);
      for (let i = 0; i < 2; i++) {
        ctl.latest.serverClose(1001);
        clock.tick(1000);
        ctl.latest.open();
        expect(ctl.latest.sentOfType('subscribe').map((m) => m.payload?.room)).toEqual(['payment:p1', 'payment:p2']);
        ackRooms(ctl.latest);
      }
      ctl.latest.receive(paymentUpdated('p2', 'completed', undefined, 'payment:p2'));
      ctl.latest.receive(paymentUpdated('p3', 'completed', undefined, 'payment:p3'));
      expect(events).toEqual(['payment:updated']);
      sub.unsubscribe();
    });

    it('a subscribe() made while reconnecting resolves with the re-subscription ack', async () => {
      const { service, ctl } = setup();
      service.connect();
      ctl.latest.drop();
      const ack = service.subscribe('payment:p9');
      clock.tick(1000);
      ctl.latest.open();
      ackRooms(ctl.latest);
      await expectAsync(ack).toBeResolvedTo(jasmine.objectContaining({ room: 'payment:p9' }));
    });

    it('a pending subscribe() rejects with DISCONNECTED on disconnect()', async () => {
      const { service, ctl } = setup();
      service.connect();
      const ack = service.subscribe('payment:p9');
      service.disconnect();
      await expectAsync(ack).toBeRejectedWith(jasmine.objectContaining({ code: 'DISCONNECTED' }));
      expect(ctl.sockets.length).toBe(1);
    });

    it('room() subscribes on the first subscriber and unsubscribes after the last (refcount)', () => {
      const { service, ctl } = setup();
      service.connect();
      ctl.latest.open();
      const room$ = service.room('payment:p1');
      const a = room$.subscribe();
      const b = room$.subscribe();
      expect(ctl.latest.sentOfType('subscribe').length).toBe(1);
      a.unsubscribe();
      expect(ctl.latest.sentOfType('unsubscribe').length).toBe(0);
      b.unsubscribe();
      expect(ctl.latest.sentOfType('unsubscribe').map((m) => m.payload?.room)).toEqual(['payment:p1']);
      ctl.latest.serverClose(1001);
      clock.tick(1000);
      ctl.latest.open();
      expect(ctl.latest.sentOfType('subscribe').length).toBe(0); // released rooms are not re-joined
    });

    it('room() errors with the typed error when the gateway refuses it', () => {
      const { service, ctl } = setup();
      service.connect();
      ctl.latest.open();
      let error: unknown;
      service.room('role:ADMIN').subscribe({ error: (e: unknown) => (error = e) });
      ackRooms(ctl.latest, ['role:ADMIN']);
      expect(error).toEqual(jasmine.any(RealtimeRequestError));
      expect((error as RealtimeRequestError).code).toBe('FORBIDDEN');
    });

    it('room() yields the events published to that room only, not every room event of the socket', () => {
      const { service, ctl } = setup();
      service.connect();
      ctl.latest.open();
      const admin: string[] = [];
      const payment: string[] = [];
      const subs = [
        service.room('role:ADMIN').subscribe((e) => admin.push(`${e.room} ${e.id}`)),
        service.room('payment:p1').subscribe((e) => payment.push(`${e.room} ${e.id}`)),
      ];
      ackRooms(ctl.latest);
      ctl.latest.receive(paymentUpdated('p1', 'processing', '1765447200000-1', 'user:u1')); // about p1, to another room
      ctl.latest.receive(paymentUpdated('p1', 'processing', '1765447200000-2', 'role:ADMIN'));
      ctl.latest.receive(paymentUpdated('p1', 'completed', '1765447200000-3', 'payment:p1'));
      ctl.latest.receive(paymentUpdated('p1', 'completed', '1765447200000-4')); // names no room: in no room()
      expect(admin).toEqual(['role:ADMIN 1765447200000-2']);
      expect(payment).toEqual(['payment:p1 1765447200000-3']);
      subs.forEach((sub) => sub.unsubscribe());
    });

    it('re-joins the rooms, resumes and flushes the queue before anyone sees connected', async () => {
      const { service, ctl } = setup();
      service.connect();
      ctl.latest.open();
      const ack = service.subscribe('payment:p1');
      ackRooms(ctl.latest);
      await ack;
      ctl.latest.receive(paymentUpdated('p1', 'processing', '1765447200000-5', 'payment:p1'));
      ctl.latest.serverClose(1001);
      service.send({ type: 'ping', correlationId: 'queued' });
      service.state$.subscribe((s) => {
        if (s === 'connected') service.send({ type: 'ping', correlationId: 'sent-on-connected' });
      });
      clock.tick(1000);
      ctl.latest.open();
      const sent = ctl.latest.messages.map((m) => (m.type === 'ping' ? m.correlationId : m.type));
      expect(sent).toEqual(['subscribe', 'resume', 'queued', 'sent-on-connected']);
    });

    it('unsubscribe() sends when connected and resolves with the ack', async () => {
      const { service, ctl } = setup();
      service.connect();
      ctl.latest.open();
      const sub = service.subscribe('payment:p1');
      ackRooms(ctl.latest);
      await sub;
      const unsub = service.unsubscribe('payment:p1');
      ackRooms(ctl.latest);
      await expectAsync(unsub).toBeResolvedTo(jasmine.objectContaining({ room: 'payment:p1' }));
      expect(ctl.latest.sentOfType('unsubscribe').length).toBe(1);
    });
  });

  describe('send queue', () => {
    it('queues while disconnected and flushes in order on connect, after the room subscriptions', () => {
      const { service, ctl } = setup();
      expect(service.send({ type: 'ping', correlationId: 'q1' })).toBeTrue();
      expect(service.send({ type: 'ping', correlationId: 'q2' })).toBeTrue();
      void service.subscribe('payment:p1').catch(() => undefined);
      service.connect();
      expect(ctl.latest.sent.length).toBe(0);
      ctl.latest.open();
      expect(ctl.latest.messages.map((m) => m.correlationId ?? m.type)).toEqual([
        jasmine.stringMatching(/^sub-/),
        jasmine.stringMatching(/^resume-/), // its position, after the rooms
        'q1',
        'q2',
      ]);
      expect(service.send({ type: 'ping', correlationId: 'now' })).toBeTrue();
      expect(ctl.latest.messages.at(-1)?.correlationId).toBe('now');
    });

    it('is bounded: when full, send() refuses new messages and returns false', () => {
      const { service, ctl } = setup({ sendQueueSize: 2 });
      expect(service.send({ type: 'ping', correlationId: '1' })).toBeTrue();
      expect(service.send({ type: 'ping', correlationId: '2' })).toBeTrue();
      expect(service.send({ type: 'ping', correlationId: '3' })).toBeFalse();
      service.connect();
      ctl.latest.open();
      expect(ctl.latest.sentOfType('ping').map((m) => m.correlationId)).toEqual(['1', '2']);
    });

    it('disconnect() clears the queue', () => {
      const { service, ctl } = setup();
      service.send({ type: 'ping', correlationId: 'stale' });
      service.disconnect();
      service.connect();
      ctl.latest.open();
      expect(ctl.latest.sentOfType('ping')).toEqual([]);
    });
  });

  describe('dead-connection detection (application ping)', () => {
    it('pings every intervalMs and reconnects when nothing arrives within timeoutMs', () => {
      const { service, ctl } = setup({ heartbeat: { intervalMs: 5000, timeoutMs: 2000 } });
      service.connect();
      ctl.latest.open();
      clock.tick(5000);
      const [ping] = ctl.latest.sentOfType('ping');
      expect(ping).toBeDefined();
      ctl.latest.receive({ type: 'pong', payload: {}, timestamp: TS, correlationId: ping.correlationId });
      clock.tick(5000);
      expect(ctl.latest.sentOfType('ping').length).toBe(2);
      clock.tick(1999);
      expect(service.state()).toBe('connected');
      clock.tick(1);
      expect(service.state()).toBe('reconnecting');
      expect(service.lastError()).toEqual(jasmine.objectContaining({ kind: 'network', message: jasmine.stringMatching(/heartbeat timeout/) }));
      expect(ctl.sockets[0].closedByClient).not.toBeNull();
      clock.tick(1000);
      expect(ctl.sockets.length).toBe(2);
    });
  });

  describe('recovery after a reconnect', () => {
    it('asks for its position on the first connection, then resume {since: last event id} after the rooms on each reconnect', async () => {
      const { service, ctl } = setup();
      service.connect();
      ctl.latest.open();
      expect(ctl.latest.sentOfType('resume').map((m) => m.payload)).toEqual([{}]);
      const ack = service.subscribe('payment:p1');
      ackRooms(ctl.latest);
      await ack;
      ctl.latest.receive(paymentUpdated('p1', 'processing', '1765447200000-4'));
      ctl.latest.receive(paymentUpdated('p1', 'completed', '1765447200001-0'));
      expect(service.lastEventId()).toBe('1765447200001-0');

      ctl.latest.serverClose(1001);
      clock.tick(1000);
      ctl.latest.open();
      const sent = ctl.latest.messages.map((m) => m.type);
      expect(sent).toEqual(['subscribe', 'resume']);
      expect(ctl.latest.sentOfType('resume')[0].payload).toEqual({ since: '1765447200001-0' });
      expect(ctl.latest.url).toBe(`${URL}?since=1765447200001-0`, 'the handshake announces the resume');
    });

    it('resumes from the position the gateway gave when its rooms stayed quiet, and never moves back', () => {
      const { service, ctl } = setup();
      service.connect();
      ctl.latest.open();
      const ask = ctl.latest.sentOfType('resume')[0]!;
      ctl.latest.receive({ type: 'resumed', payload: { since: '1765447200000-7', replayed: 0 }, timestamp: new Date().toISOString(), correlationId: ask.correlationId });
      expect(service.lastEventId()).toBe('1765447200000-7');

      ctl.latest.serverClose(1001);
      clock.tick(1000);
      expect(ctl.latest.url).toBe(`${URL}?since=1765447200000-7`);
      ctl.latest.open();
      expect(ctl.latest.sentOfType('resume').map((m) => m.payload)).toEqual([{ since: '1765447200000-7' }]);
      ctl.latest.receive(paymentUpdated('p1', 'completed', '1765447200000-9'));
      ctl.latest.receive({ type: 'resumed', payload: { since: '1765447200000-7', replayed: 1 }, timestamp: new Date().toISOString() });
      expect(service.lastEventId()).toBe('1765447200000-9');
    });

    it('drops room events at or below the last seen id (replay overlapping live), delivering each event once', () => {
      const { service, ctl } = setup();
      const seen: string[] = [];
      service.on('payment:updated').subscribe((m) => seen.push(m.id ?? '?'));
      service.connect();
      ctl.latest.open();
      for (const id of ['1765447200000-1', '1765447200000-2', '1765447200000-2', '1765447200000-1', '1765447200000-3']) {
        ctl.latest.receive(paymentUpdated('p1', 'processing', id));
      }
      expect(seen).toEqual(['1765447200000-1', '1765447200000-2', '1765447200000-3']);
    });

    it('passes resumed and recovery:failed through messages$ for the store to act on', () => {
      const { service, ctl } = setup();
      const types: string[] = [];
      service.messages$.subscribe((m) => types.push(m.type));
      service.connect();
      ctl.latest.open();
      ctl.latest.receive({ type: 'resumed', payload: { since: '1765447200000-1', replayed: 2 }, timestamp: TS });
      ctl.latest.receive({ type: 'recovery:failed', payload: { since: '1765447200000-1', reason: 'too-old' }, timestamp: TS });
      expect(types).toEqual(['resumed', 'recovery:failed']);
    });
  });

  describe('typed streams', () => {
    it('on(type) yields only that type, and malformed frames become protocol errors, never stream errors', () => {
      const { service, ctl, errors } = setup();
      const payments: ServerMessage<'payment:updated'>[] = [];
      let streamError: unknown = null;
      service.on('payment:updated').subscribe({ next: (m) => payments.push(m), error: (e: unknown) => (streamError = e) });
      service.messages$.subscribe({ error: (e: unknown) => (streamError = e) });
      service.connect();
      ctl.latest.open();
      ctl.latest.receiveRaw('{not json');
      ctl.latest.receiveRaw(
        JSON.stringify({ type: 'payment:updated', payload: { paymentId: 'p1', status: 'done', amount: 1.5, currency: 'EUR' }, timestamp: TS }),
      );
      ctl.latest.receive({ type: 'notification:new', payload: { notificationId: 'n1', level: 'info', title: 't', message: 'm' }, timestamp: TS });
      ctl.latest.receive(paymentUpdated('p1'));
      expect(payments.map((m) => m.payload.paymentId)).toEqual(['p1']);
      expect(payments[0].payload.amount).toBe('100.00');
      expect(streamError).toBeNull();
      expect(errors.filter((e) => e.kind === 'protocol').length).toBe(2);
      expect(errors[1].message).toMatch(/payload\.status/);
      expect(service.state()).toBe('connected');
    });
  });
});
