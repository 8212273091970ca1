/**
 * Where a login session begins and ends, as the service sees it: a handshake the gateway refuses although the token
 * has not expired (a restarted gateway with a new secret), and a sign-out followed by a sign-in in the same tab.
 */
import { signal, type Provider } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideRealtimeTesting, RealtimeTestingController } from '@payments-system/realtime/testing';
import { of, Subject, throwError } from 'rxjs';
import { fakeJwt, paymentUpdated, TS } from '../spec-helpers/server-messages';
import { ɵREALTIME_HANDSHAKE_CHECK, type RealtimeConfig } from './config';
import { provideRealtime } from './provide-realtime';
import { RealtimeService } from './realtime.service';
import { useVirtualTime } from '../spec-helpers/virtual-time';

const URL = 'ws://gateway.test/ws';

function setup(overrides: Partial<RealtimeConfig> = {}, providers: Provider[] = []) {
  TestBed.configureTestingModule({
    providers: [
      provideRealtime({ url: URL, token: 'token-1', autoConnect: false, heartbeat: false, reconnect: { jitter: 'none' }, ...overrides }),
      provideRealtimeTesting(),
      ...providers,
    ],
  });
  return { service: TestBed.inject(RealtimeService), ctl: TestBed.inject(RealtimeTestingController) };
}

describe('RealtimeService at the edges of a login session (virtual time)', () => {
  const clock = useVirtualTime(TS);

  describe('a handshake refused while the token has not expired', () => {
    const live = fakeJwt(Math.floor(Date.parse(TS) / 1000) + 600);

    it('refreshes at once when the gateway answers 401, with the refused token, spending no attempt', () => {
      const refreshToken = jasmine.createSpy('refreshToken').and.returnValue(of('token-2'));
      const { service, ctl } = setup({ token: live, refreshToken });
      service.connect();
      ctl.latest.refuse(401);
      expect(refreshToken).toHaveBeenCalledOnceWith(live);
      expect(ctl.sockets.length).toBe(2);
      expect(ctl.latest.bearerToken).toBe('token-2');
      ctl.latest.open();
      expect(service.state()).toBe('connected');
      expect(service.attempt()).toBe(0);
    });

    it('ends disconnected with an auth error when the refresh is refused too (the session is gone)', () => {
      const { service, ctl } = setup({ token: live, refreshToken: () => of(null) });
      service.connect();
      ctl.latest.refuse(401);
      expect(service.state()).toBe('disconnected');
      expect(service.lastError()).toEqual(jasmine.objectContaining({ kind: 'auth', message: 'token refresh refused: the session is over' }));
      clock.tick(60_000);
      expect(ctl.sockets.length).toBe(1);
    });

    it('without refreshToken, ends disconnected with an auth error instead of retrying a refused token', () => {
      const { service, ctl } = setup({ token: live });
      service.connect();
      ctl.latest.refuse(401);
      expect(service.state()).toBe('disconnected');
      expect(service.lastError()?.message).toBe(
        'handshake refused: the gateway does not accept the token (401) and no refreshToken is configured',
      );
    });

    it('backs off without refreshing when nobody answers (gateway down) or the refusal was not about the token', () => {
      const refreshToken = jasmine.createSpy('refreshToken').and.returnValue(of('token-2'));
      const { service, ctl } = setup({ token: live, refreshToken });
      service.connect();
      ctl.latest.drop(); // no answer: an outage
      expect([service.state(), service.attempt()]).toEqual(['reconnecting', 1]);
      clock.tick(1000);
      ctl.latest.refuse(503); // draining: the check says the token is fine
      expect([service.state(), service.attempt()]).toEqual(['reconnecting', 2]);
      clock.tick(2000);
      ctl.latest.open();
      expect(refreshToken).not.toHaveBeenCalled();
      expect(ctl.latest.bearerToken).toBe(live);
    });

    it('counts an unanswered check as a network failure when the check never answers', () => {
      const hanging = { provide: ɵREALTIME_HANDSHAKE_CHECK, useValue: () => new Subject<never>() };
      const { service, ctl } = setup({ token: live, requestTimeoutMs: 3000 }, [hanging]);
      service.connect();
      ctl.latest.refuse(401);
      expect(service.state()).toBe('connecting');
      clock.tick(3000);
      expect([service.state(), service.attempt()]).toEqual(['reconnecting', 1]);
      expect(service.lastError()?.kind).toBe('network');
    });

    it('backs off, and refreshes again later, when the refresh cannot be made', () => {
      const refreshToken = jasmine
        .createSpy('refreshToken')
        .and.returnValues(throwError(() => new Error('offline')), of('token-2'));
      const { service, ctl } = setup({ token: live, refreshToken });
      service.connect();
      ctl.latest.refuse(401);
      expect([service.state(), service.attempt()]).toEqual(['reconnecting', 1]);
      clock.tick(1000);
      ctl.latest.refuse(401);
      expect(refreshToken).toHaveBeenCalledTimes(2);
      expect(ctl.latest.bearerToken).toBe('token-2');
    });
  });

  describe('sign out, then sign in again in the same tab', () => {
    it("starts the new session without the old one's resume position, queue or replayed logout", () => {
      const token = signal<string | null>(fakeJwt(2_000_000_000, 'bob'));
      const { service, ctl } = setup({ token });
      const ended: number[] = [];
      service.sessionEnded$.subscribe(() => ended.push(Date.now()));
      service.connect();
      ctl.latest.open();
      ctl.latest.receive(paymentUpdated('p1', 'processing', '1765447200000-5'));
      expect(service.lastEventId()).toBe('1765447200000-5');

      ctl.latest.drop();
      expect(service.send({ type: 'ping' })).toBeTrue(); // queued while reconnecting...

      token.set(null); // ...then signed out: the socket loop stops
      TestBed.tick();
      expect(ended.length).toBe(1);
      expect(service.lastEventId()).toBeNull();

      token.set(fakeJwt(2_000_000_100, 'bob')); // signed in again: a new session (another token, same user)
      TestBed.tick();
      expect(ctl.sockets.length).toBe(2); // the retry that was waiting never ran
      expect(ctl.latest.url).toBe(URL); // no ?since=: nothing of the old session is replayed
      ctl.latest.open();
      expect(ctl.latest.sentOfType('resume').map((m) => m.payload)).toEqual([{}]); // a position of its own
      expect(ctl.latest.sentOfType('ping')).toEqual([]);
      expect(ended.length).toBe(1);
    });

    it('keeps the resume position across a refreshed token of the same session', () => {
      const { service, ctl } = setup({ refreshToken: () => of('token-2') });
      const ended: unknown[] = [];
      service.sessionEnded$.subscribe((e) => ended.push(e));
      service.connect();
      ctl.latest.open();
      ctl.latest.receive(paymentUpdated('p1', 'processing', '1765447200000-5'));
      ctl.latest.serverClose(4001);
      expect(ctl.latest.url).toBe(`${URL}?since=1765447200000-5`);
      expect(ended).toEqual([]);
    });

    it('drops the resume position when another session takes over without a sign-out in between', () => {
      const token = signal<string | null>(fakeJwt(2_000_000_000, 'alice'));
      const { service, ctl } = setup({ token });
      service.connect();
      ctl.latest.open();
      ctl.latest.receive(paymentUpdated('p1', 'processing', '1765447200000-5'));
      token.set(fakeJwt(2_000_000_000, 'bob')); // another user signed in in another tab
      TestBed.tick();
      expect(ctl.latest.url).toBe(URL);
      expect(service.lastEventId()).toBeNull();
    });
  });
});
