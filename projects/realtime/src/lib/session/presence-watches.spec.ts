import { Component, inject, Injector, type Signal } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideRealtimeTesting, RealtimeTestingController, type FakeWebSocket } from '@payments-system/realtime/testing';
import type { ErrorCode, PresenceMember, PresenceRoom } from '@payments-system/protocol';
import { TS } from '../../spec-helpers/server-messages';
import type { RealtimeConfig } from '../config';
import { RealtimeRequestError } from '../errors';
import { provideRealtime } from '../provide-realtime';
import { RealtimeService, type RealtimePresenceMember } from '../realtime.service';
import { useVirtualTime } from '../../spec-helpers/virtual-time';

const URL = 'ws://gateway.test/ws';

function setup(overrides: Partial<RealtimeConfig> = {}) {
  TestBed.configureTestingModule({
    providers: [
      provideRealtime({ url: URL, token: 'token-1', autoConnect: false, heartbeat: false, reconnect: { jitter: 'none' }, requestTimeoutMs: 5000, ...overrides }),
      provideRealtimeTesting(),
    ],
  });
  return { service: TestBed.inject(RealtimeService), ctl: TestBed.inject(RealtimeTestingController) };
}

const member = (userId: string, connections = 1): PresenceMember => ({ userId, role: 'CUSTOMER', connections });

/** The `presence` requests a socket sent, as [room, watch]. */
const requests = (socket: FakeWebSocket) => socket.sentOfType('presence').map((m) => [m.payload.room, m.payload.watch]);

/** Plays the gateway: answers the latest `presence` request with `members`, or with an error code. */
function list(socket: FakeWebSocket, answer: readonly PresenceMember[] | ErrorCode): void {
  const request = socket.sentOfType('presence').at(-1)!;
  const { room } = request.payload;
  socket.receive(
    typeof answer === 'string'
      ? { type: 'error', payload: { code: answer, room, message: 'no' }, timestamp: TS, correlationId: request.correlationId }
      : { type: 'presence', payload: { room, members: [...answer] }, timestamp: TS, correlationId: request.correlationId },
  );
}

describe('presence (virtual time)', () => {
  const clock = useVirtualTime(TS);

  it('watches a room from the first subscriber: the list, then joined and left applied to it', () => {
    const { service, ctl } = setup();
    service.connect();
    ctl.latest.open();
    const seen: Array<readonly RealtimePresenceMember[]> = [];
    service.presence$('payment:p1').subscribe((members) => seen.push(members));
    expect(requests(ctl.latest)).toEqual([['payment:p1', true]]);
    expect(seen).toEqual([], 'nothing before the list');
    list(ctl.latest, [member('alice', 2)]);
    ctl.latest.receive({ type: 'presence:joined', payload: { room: 'payment:p1', userId: 'admin_1', role: 'ADMIN' }, timestamp: TS });
    ctl.latest.receive({ type: 'presence:joined', payload: { room: 'payment:p2', userId: 'bob', role: 'CUSTOMER' }, timestamp: TS });
    ctl.latest.receive({ type: 'presence:left', payload: { room: 'payment:p1', userId: 'alice' }, timestamp: TS });
    ctl.latest.receive({ type: 'presence:left', payload: { room: 'payment:p1', userId: 'nobody' }, timestamp: TS });
    expect(seen).toEqual([
      [{ userId: 'alice', role: 'CUSTOMER' }],
      [{ userId: 'alice', role: 'CUSTOMER' }, { userId: 'admin_1', role: 'ADMIN' }],
      [{ userId: 'admin_1', role: 'ADMIN' }],
    ]);
  });

  it('shares one watch between subscribers, and stops it (watch: false) after the last one', () => {
    const { service, ctl } = setup();
    service.connect();
    ctl.latest.open();
    const first = service.presence$('user:alice').subscribe();
    list(ctl.latest, []);
    let late: readonly RealtimePresenceMember[] | undefined;
    const second = service.presence$('user:alice').subscribe((members) => (late = members));
    expect(late).toEqual([], 'a late subscriber gets the current list at once');
    first.unsubscribe();
    second.unsubscribe();
    expect(requests(ctl.latest)).toEqual([['user:alice', true], ['user:alice', false]]);
  });

  it('asks again on every reconnect, before the state turns connected; the new list replaces the old', () => {
    const { service, ctl } = setup();
    service.connect();
    ctl.latest.open();
    const seen: Array<readonly RealtimePresenceMember[]> = [];
    service.presence$('user:alice').subscribe((members) => seen.push(members));
    list(ctl.latest, [member('alice')]);
    ctl.latest.serverClose(1001);
    clock.tick(1000);
    ctl.latest.open();
    expect(requests(ctl.latest)).toEqual([['user:alice', true]]);
    list(ctl.latest, []);
    expect(seen).toEqual([[{ userId: 'alice', role: 'CUSTOMER' }], []]);
  });

  it('takes a list the gateway sends unasked as the whole truth', () => {
    const { service, ctl } = setup();
    service.connect();
    ctl.latest.open();
    let members: readonly RealtimePresenceMember[] = [];
    service.presence$('user:alice').subscribe((m) => (members = m));
    list(ctl.latest, [member('alice')]);
    ctl.latest.receive({ type: 'presence', payload: { room: 'user:alice', members: [] }, timestamp: TS });
    expect(members).toEqual([]);
  });

  for (const code of ['FORBIDDEN', 'RATE_LIMITED'] as const) {
    it(`errors with the gateway's ${code}, and does not ask again after a reconnect`, () => {
      const { service, ctl } = setup();
      service.connect();
      ctl.latest.open();
      let error: unknown;
      service.presence$('user:bob').subscribe({ error: (e: unknown) => (error = e) });
      list(ctl.latest, code);
      expect(error).toEqual(jasmine.any(RealtimeRequestError));
      expect((error as RealtimeRequestError).code).toBe(code);
      expect((error as RealtimeRequestError).room).toBe('user:bob');
      ctl.latest.serverClose(1001);
      clock.tick(1000);
      ctl.latest.open();
      expect(requests(ctl.latest)).toEqual([]);
    });
  }

  it('asks again after SERVICE_UNAVAILABLE, and after no answer, one request timeout later', () => {
    const { service, ctl } = setup();
    service.connect();
    ctl.latest.open();
    service.presence$('user:alice').subscribe();
    list(ctl.latest, 'SERVICE_UNAVAILABLE');
    clock.tick(4999);
    expect(requests(ctl.latest).length).toBe(1);
    clock.tick(1);
    expect(requests(ctl.latest).length).toBe(2);
    clock.tick(5000 + 5000); // unanswered: its timeout, then the wait
    expect(requests(ctl.latest).length).toBe(3);
  });

  it('watches from the next open when subscribed before connecting', () => {
    const { service, ctl } = setup();
    service.presence$('user:alice').subscribe();
    service.connect();
    expect(ctl.latest.sent).toEqual([]);
    ctl.latest.open();
    expect(requests(ctl.latest)).toEqual([['user:alice', true]]);
  });

  it('refuses a room kind without presence at once', () => {
    const { service } = setup();
    let error: RealtimeRequestError | undefined;
    service.presence$('role:ADMIN' as PresenceRoom).subscribe({ error: (e: RealtimeRequestError) => (error = e) });
    expect(error?.code).toBe('BAD_REQUEST');
  });

  it('gives a signal that lives as long as its injection context', () => {
    const { ctl, service } = setup();
    service.connect();
    ctl.latest.open();
    @Component({ template: '' })
    class Viewers {
      readonly viewers: Signal<readonly RealtimePresenceMember[]> = inject(RealtimeService).presence('payment:p9');
    }
    const fixture = TestBed.createComponent(Viewers);
    expect(fixture.componentInstance.viewers()).toEqual([]);
    list(ctl.latest, [member('bob')]);
    expect(fixture.componentInstance.viewers()).toEqual([{ userId: 'bob', role: 'CUSTOMER' }]);
    fixture.destroy();
    expect(requests(ctl.latest)).toEqual([['payment:p9', true], ['payment:p9', false]]);
    expect(() => service.presence('payment:p9')).toThrowError(/NG0203/);
    expect(service.presence('payment:p9', { injector: TestBed.inject(Injector) })()).toEqual([]);
  });
});
