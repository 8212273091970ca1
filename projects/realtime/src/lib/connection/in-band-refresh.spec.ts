import { signal } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideRealtimeTesting, RealtimeTestingController, type FakeWebSocket } from '@payments-system/realtime/testing';
import type { ServerMessage } from '@payments-system/protocol';
import { of, Subject, throwError } from 'rxjs';
import { fakeJwt, TS } from '../../spec-helpers/server-messages';
import type { RealtimeConfig } from '../config';
import type { RealtimeError } from '../errors';
import { provideRealtime } from '../provide-realtime';
import { RealtimeService, type RealtimeConnectionState } from '../realtime.service';
import { planFor } from './in-band-refresh';
import { useVirtualTime } from '../../spec-helpers/virtual-time';

const URL = 'ws://gateway.test/ws';
const NOW_S = Date.parse(TS) / 1000;
/** A token of session s1 issued at `iat` (seconds after TS) living `ttl` seconds. */
const token = (iat: number, ttl: number, claims: Record<string, unknown> = {}) =>
  fakeJwt(NOW_S + iat + ttl, 'u1', { iat: NOW_S + iat, sid: 's1', ...claims });
/** 20 s ahead of expiry, no jitter: the refresh of a token issued at `iat` living `ttl` is due at iat + ttl − 20 s. */
const PLAN = { leadTimeMs: 20_000, jitter: 0 };

function setup(overrides: Partial<RealtimeConfig>) {
  TestBed.configureTestingModule({
    providers: [
      provideRealtime({ url: URL, token: token(0, 100), autoConnect: false, heartbeat: false, reconnect: { jitter: 'none' }, tokenRefresh: PLAN, ...overrides }),
      provideRealtimeTesting(),
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

/** The gateway's answer to the latest `auth` on `socket`, stamped now (by the browser's clock plus `aheadMs`). */
function answerAuth(socket: FakeWebSocket, answer: 'authenticated' | { code: 'BAD_REQUEST' | 'UNAUTHORIZED' | 'FORBIDDEN' | 'SERVICE_UNAVAILABLE'; message?: string }, aheadMs = 0): void {
  const auth = socket.sentOfType('auth').at(-1);
  if (!auth) throw new Error('no auth was sent');
  const timestamp = new Date(Date.now() + aheadMs).toISOString();
  const exp = JSON.parse(atob(auth.payload.token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))).exp as number;
  const message: ServerMessage =
    answer === 'authenticated'
      ? { type: 'authenticated', payload: { expiresAt: new Date(exp * 1000).toISOString() }, timestamp, correlationId: auth.correlationId }
      : { type: 'error', payload: { code: answer.code, message: answer.message ?? 'no' }, timestamp, correlationId: auth.correlationId };
  socket.receive(message);
}

describe('in-band token refresh (virtual time)', () => {
  const clock = useVirtualTime(TS);

  it('refreshes ahead of expiry and sends the new token on the open socket: no reconnect, and the next one is planned', () => {
    const tokens = [token(80, 100), token(160, 100)];
    const refreshToken = jasmine.createSpy('refreshToken').and.returnValues(of(tokens[0]), of(tokens[1]));
    const { service, ctl, states } = setup({ refreshToken });
    service.connect();
    ctl.latest.open();
    clock.tick(79_999);
    expect(ctl.latest.sentOfType('auth')).toEqual([]);
    clock.tick(1);
    expect(refreshToken).toHaveBeenCalledOnceWith(token(0, 100));
    expect(ctl.latest.sentOfType('auth').map((m) => m.payload.token)).toEqual([tokens[0]!]);
    answerAuth(ctl.latest, 'authenticated');

    clock.tick(80_000); // the new token was issued at 80 s: due at 80 + 100 − 20
    expect(refreshToken.calls.mostRecent().args).toEqual([tokens[0]]);
    expect(ctl.latest.sentOfType('auth').map((m) => m.payload.token)).toEqual([tokens[0]!, tokens[1]!]);
    answerAuth(ctl.latest, 'authenticated');
    expect(ctl.sockets.length).toBe(1);
    expect(states).toEqual(['disconnected', 'connecting', 'connected']);
    expect(service.state()).toBe('connected');
  });

  it('spreads the refreshes: a random moment between the lead and lead × (1 − jitter) before exp, the lead at most half the lifetime', () => {
    const options = { leadTimeMs: 60_000, jitter: 0.5 };
    const nowMs = Date.parse(TS);
    expect(planFor(token(0, 900), nowMs, options, 0)).toEqual({ refreshAt: nowMs + 840_000, expiresAt: nowMs + 900_000 });
    expect(planFor(token(0, 900), nowMs, options, 0.999_999)!.refreshAt).toBeCloseTo(nowMs + 870_000, -1);
    expect(planFor(token(0, 5), nowMs, options, 0)).toEqual({ refreshAt: nowMs + 2500, expiresAt: nowMs + 5000 }, 'a 5 s token: at half its life');
    expect(planFor(fakeJwt(NOW_S + 10), nowMs, options, 0)!.refreshAt).toBe(nowMs + 5000, 'no iat: half of what is left');
    expect(planFor('opaque-token', nowMs, options, 0)).toBeNull();
  });

  it('plans by the gateway’s clock, read from its replies: a browser clock 30 s late refreshes 30 s earlier', () => {
    const refreshToken = jasmine.createSpy('refreshToken').and.returnValue(of(token(50, 100)));
    const { service, ctl } = setup({ refreshToken });
    service.connect();
    ctl.latest.open();
    ctl.latest.receive({ type: 'pong', payload: {}, timestamp: new Date(Date.now() + 30_000).toISOString(), correlationId: 'p' });
    clock.tick(49_999);
    expect(refreshToken).not.toHaveBeenCalled();
    clock.tick(1);
    expect(refreshToken).toHaveBeenCalledTimes(1);
  });

  it('against a gateway that answers BAD_REQUEST (no in-band auth there), reconnects at once with the new token', () => {
    const fresh = token(80, 100);
    const { service, ctl, states } = setup({ refreshToken: () => of(fresh) });
    service.connect();
    ctl.latest.open();
    clock.tick(80_000);
    answerAuth(ctl.sockets[0]!, { code: 'BAD_REQUEST', message: 'type: unknown message type; expected one of subscribe, unsubscribe, ping, resume' });
    expect(ctl.sockets[0]!.closedByClient).toEqual({ code: 1000, reason: 'client disconnect' });
    expect(ctl.sockets.length).toBe(2);
    expect(ctl.latest.bearerToken).toBe(fresh);
    ctl.latest.open();
    expect(states).toEqual(['disconnected', 'connecting', 'connected', 'reconnecting', 'connected']);
  });

  for (const code of ['UNAUTHORIZED', 'FORBIDDEN'] as const) {
    it(`reports a new token refused with ${code} as an auth error, keeps the socket, and refreshes after the 4001 as before`, async () => {
      const refreshToken = jasmine.createSpy('refreshToken').and.returnValues(of(token(80, 100)), of(token(100, 100)));
      const { service, ctl, errors } = setup({ refreshToken });
      service.connect();
      ctl.latest.open();
      clock.tick(80_000);
      answerAuth(ctl.latest, { code, message: 'token revoked' });
      expect(errors.at(-1)).toEqual(jasmine.objectContaining({ kind: 'auth', message: 'the gateway refused the refreshed token: token revoked' }));
      expect(ctl.sockets.length).toBe(1);
      expect(service.state()).toBe('connected');
      clock.tick(60_000);
      expect(ctl.latest.sentOfType('auth').length).toBe(1, 'no second try on this socket');
      ctl.latest.serverClose(4001, 'token expired');
      await Promise.resolve();
      expect(refreshToken).toHaveBeenCalledTimes(2);
      expect(ctl.latest.bearerToken).toBe(token(100, 100));
    });
  }

  it('tries again when the answer may change (SERVICE_UNAVAILABLE, no answer in time, a refresh that failed), until the token expires', () => {
    let calls = 0;
    const refreshToken = jasmine.createSpy('refreshToken').and.callFake(() => (++calls === 2 ? throwError(() => new Error('offline')) : of(token(80, 100))));
    const { service, ctl } = setup({ refreshToken, requestTimeoutMs: 3000 });
    service.connect();
    ctl.latest.open();
    clock.tick(80_000);
    answerAuth(ctl.latest, { code: 'SERVICE_UNAVAILABLE' });
    clock.tick(1000); // first retry after 1 s: the refresh fails
    expect(refreshToken).toHaveBeenCalledTimes(2);
    clock.tick(2000); // then after 2 s: sent, but never answered
    expect(ctl.latest.sentOfType('auth').length).toBe(2);
    clock.tick(3000 + 4000); // the answer's timeout, then 4 s
    expect(ctl.latest.sentOfType('auth').length).toBe(3);
    answerAuth(ctl.latest, 'authenticated');
    expect(ctl.sockets.length).toBe(1);
  });

  it('stops trying once the token has expired, leaving it to the 4001', () => {
    const refreshToken = jasmine.createSpy('refreshToken').and.callFake(() => throwError(() => new Error('offline')));
    const { service, ctl } = setup({ refreshToken });
    service.connect();
    ctl.latest.open();
    clock.tick(80_000 + 60_000);
    const made = refreshToken.calls.count();
    expect(made).toBeGreaterThan(3);
    clock.tick(600_000);
    expect(refreshToken.calls.count()).toBe(made);
  });

  it('does nothing more when refreshToken says the session is over (null)', () => {
    const refreshToken = jasmine.createSpy('refreshToken').and.returnValue(of(null));
    const { service, ctl } = setup({ refreshToken });
    service.connect();
    ctl.latest.open();
    clock.tick(200_000);
    expect(refreshToken).toHaveBeenCalledTimes(1);
    expect(ctl.latest.sentOfType('auth')).toEqual([]);
  });

  it('does not refresh in-band with tokenRefresh: false, or a token without exp', () => {
    for (const overrides of [{ tokenRefresh: false as const }, { token: 'opaque-token' }]) {
      const refreshToken = jasmine.createSpy('refreshToken').and.returnValue(of(token(80, 100)));
      const { service, ctl } = setup({ refreshToken, ...overrides });
      service.connect();
      ctl.latest.open();
      clock.tick(200_000);
      expect(refreshToken).not.toHaveBeenCalled();
      TestBed.resetTestingModule();
    }
  });

  it('does not reconnect when the app stores the refreshed token in its token signal, during the exchange or after', () => {
    const appToken = signal<string | null>(token(0, 100));
    const fresh = token(80, 100);
    const { service, ctl } = setup({
      token: appToken,
      refreshToken: () => {
        appToken.set(fresh); // as an AuthService that keeps its signal current does
        return of(fresh);
      },
    });
    service.connect();
    ctl.latest.open();
    clock.tick(80_000);
    TestBed.tick(); // runs the signal's effect: the change reaches the service mid-exchange
    answerAuth(ctl.latest, 'authenticated');
    TestBed.tick();
    expect(ctl.sockets.length).toBe(1);
    expect(service.state()).toBe('connected');
  });

  it('forgets the plan of a socket that closed: the next socket plans for its own token', () => {
    const refreshes = new Subject<string>();
    const refreshToken = jasmine.createSpy('refreshToken').and.returnValue(refreshes);
    const { service, ctl } = setup({ refreshToken });
    service.connect();
    ctl.latest.open();
    clock.tick(10_000);
    ctl.latest.serverClose(1001, 'server shutting down');
    clock.tick(1000);
    ctl.latest.open(); // the same token, 11 s later: due at 80 s as before, not twice
    clock.tick(69_000);
    expect(refreshToken).toHaveBeenCalledTimes(1);
    expect(ctl.sockets[0]!.sentOfType('auth')).toEqual([]);
  });
});
