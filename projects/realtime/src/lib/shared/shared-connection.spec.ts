import { createEnvironmentInjector, EnvironmentInjector, PLATFORM_ID, signal, type WritableSignal } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import type { PresenceRoom, Room, RoomEvent, ServerMessage } from '@payments-system/protocol';
import { provideRealtimeTesting, RealtimeTestingController, type FakeWebSocket } from '@payments-system/realtime/testing';
import { ackRooms, fakeJwt, paymentUpdated, TS } from '../../spec-helpers/server-messages';
import { FakeTabs, type FakePage } from '../../spec-helpers/fake-tabs';
import type { RealtimeConfig } from '../config';
import type { RealtimeConnectionState } from '../connection/connection-state';
import { provideRealtime, withSharedConnection } from '../provide-realtime';
import { RealtimeService } from '../realtime.service';
import { ɵSHARED_TABS_ENVIRONMENT } from './shared-connection.provider';
import { MAX_HELD_EVENTS } from './held-replay';
import { SHARED_TIMING } from './shared-transport-deps';
import { MAX_WAITING_REPLAYS } from './socket-resumes';
import { groupName } from './tab-messages';

const URL = 'ws://gateway.test/ws';
const NOW_S = Date.parse('2026-12-11T10:00:00Z') / 1000;
const ALICE = fakeJwt(NOW_S + 900, 'alice');
const BOB = fakeJwt(NOW_S + 900, 'bob');
const id = (n: number) => `1765447200000-${n}`;

/** An unsigned JWT with these claims (the client never verifies signatures). */
function jwt(claims: Record<string, unknown>): string {
  const b64 = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}.c2ln`;
}

interface Tab {
  readonly page: FakePage;
  readonly service: RealtimeService;
  readonly token: WritableSignal<string | null>;
  readonly states: RealtimeConnectionState[];
  /** Ids of the room events the tab's app saw. */
  readonly events: string[];
  readonly messages: ServerMessage[];
  readonly refreshes: string[];
  ended: number;
  close(): void;
  crash(): void;
}

describe('withSharedConnection (fake tabs, fake locks, virtual time)', () => {
  let clock: jasmine.Clock;
  let net: FakeTabs;
  let ctl: RealtimeTestingController;
  let opened: Tab[];

  beforeEach(() => {
    clock = jasmine.clock();
    clock.install();
    clock.mockDate(new Date(NOW_S * 1000));
    net = new FakeTabs();
    opened = [];
    TestBed.configureTestingModule({ providers: [provideRealtimeTesting()] });
    ctl = TestBed.inject(RealtimeTestingController);
  });

  afterEach(() => {
    for (const tab of opened) tab.close();
    TestBed.resetTestingModule();
    clock.uninstall();
  });

  function openTab(
    options: { token?: string; locks?: boolean; channels?: boolean; refreshTo?: string | null; config?: Partial<RealtimeConfig> } = {},
  ): Tab {
    const page = net.page({ locks: options.locks, channels: options.channels });
    const token = signal<string | null>(options.token ?? ALICE);
    const refreshes: string[] = [];
    const injector = createEnvironmentInjector(
      [
        provideRealtime(
          {
            url: URL,
            token: () => token,
            refreshToken: async (stale) => {
              refreshes.push(stale);
              return options.refreshTo ?? null;
            },
            heartbeat: false,
            reconnect: { jitter: 'none' },
            ...options.config,
          },
          withSharedConnection(),
        ),
        { provide: ɵSHARED_TABS_ENVIRONMENT, useValue: page.env },
      ],
      TestBed.inject(EnvironmentInjector),
    );
    const service = injector.get(RealtimeService);
    let closed = false;
    const tab: Tab = {
      page,
      service,
      token,
      refreshes,
      states: [],
      events: [],
      messages: [],
      ended: 0,
      close: () => {
        if (closed) return;
        closed = true;
        page.lifecycle.next({ type: 'pagehide' });
        page.crash(); // then the document goes: whatever it still holds is released
        injector.destroy();
      },
      crash: () => {
        if (closed) return;
        closed = true;
        page.crash(); // no pagehide: the browser releases its locks, the tab says nothing
        injector.destroy();
      },
    };
    service.state$.subscribe((s) => tab.states.push(s));
    service.messages$.subscribe((m) => {
      tab.messages.push(m);
      if (m.id !== undefined) tab.events.push(m.id);
    });
    service.sessionEnded$.subscribe(() => tab.ended++);
    opened.push(tab);
    return tab;
  }

  /** Every tab's socket work is done: channel messages and lock grants delivered, promises settled. */
  const flush = () => net.flush();

  /** Lets `ms` of virtual time pass in small steps, with what the tabs post delivered between steps (as in a browser). */
  async function advance(ms: number, step = 10): Promise<void> {
    for (let passed = 0; passed < ms; passed += step) {
      clock.tick(step);
      await flush();
    }
  }

  function event(n: number, room: Room = 'user:alice'): RoomEvent {
    return paymentUpdated(`p${n}`, 'completed', id(n), room);
  }

  async function connectAll(count: number): Promise<Tab[]> {
    const tabs = Array.from({ length: count }, () => openTab());
    await flush();
    ctl.latest.open();
    await flush();
    return tabs;
  }

  const socketsOpen = () => ctl.sockets.filter((s) => s.readyState === s.OPEN).length;

  /** The gateway's answer to the socket's position request (no tab had seen an event when it opened). */
  async function answerPosition(socket: FakeWebSocket, n = 0): Promise<void> {
    const asked = socket.sentOfType('resume').find((m) => m.payload.since === undefined)!;
    socket.receive({ type: 'resumed', payload: { since: id(n), replayed: 0 }, timestamp: TS, correlationId: asked.correlationId });
    await flush();
  }

  /** The replays asked on a socket (resumes with a position). */
  const replaysAsked = (socket: FakeWebSocket) => socket.sentOfType('resume').filter((m) => m.payload.since !== undefined);

  /** Plays the gateway: answers every `presence` request sent since the last call with the room's members. */
  function answerPresence(socket: FakeWebSocket, members: Partial<Record<PresenceRoom, readonly string[]>> = {}): void {
    const requests = socket.sentOfType('presence');
    const answered = (socket as unknown as { __presence?: number }).__presence ?? 0;
    (socket as unknown as { __presence?: number }).__presence = requests.length;
    for (const request of requests.slice(answered)) {
      const { room } = request.payload;
      const list = (members[room] ?? []).map((userId) => ({ userId, role: 'CUSTOMER' as const, connections: 1 }));
      socket.receive({ type: 'presence', payload: { room, members: list }, timestamp: TS, correlationId: request.correlationId });
    }
  }

  /** What the socket was asked to do with presence, in order: `watch room` / `unwatch room`. */
  const presenceSent = (socket: FakeWebSocket) => socket.sentOfType('presence').map((m) => `${m.payload.watch ? 'watch' : 'unwatch'} ${m.payload.room}`);

  const joined = (room: PresenceRoom, userId: string): ServerMessage => ({ type: 'presence:joined', payload: { room, userId, role: 'CUSTOMER' }, timestamp: TS });
  const left = (room: PresenceRoom, userId: string): ServerMessage => ({ type: 'presence:left', payload: { room, userId }, timestamp: TS });

  /** The user ids a presence observable shows, list after list. */
  function watchPresence(tab: Tab, room: PresenceRoom) {
    const seen: string[][] = [];
    const subscription = tab.service.presence$(room).subscribe((members) => seen.push(members.map((m) => m.userId)));
    return { seen, stop: () => subscription.unsubscribe() };
  }

  describe('one socket', () => {
    it('opens one socket for four tabs, and an event reaches each tab once', async () => {
      const tabs = await connectAll(4);
      expect(ctl.sockets.length).toBe(1);
      expect(tabs.map((t) => t.service.state())).toEqual(['connected', 'connected', 'connected', 'connected']);
      ctl.latest.receive(event(1));
      ctl.latest.receive(event(2, 'broadcast'));
      await flush();
      for (const tab of tabs) expect(tab.events).toEqual([id(1), id(2)]);
    });

    it('keeps one socket per login session: another user in the same browser gets their own', async () => {
      const alice = openTab();
      const bob = openTab({ token: BOB });
      await flush();
      expect(ctl.sockets.map((s) => s.bearerToken)).toEqual([ALICE, BOB]);
      ctl.sockets[0]!.open();
      ctl.sockets[1]!.open();
      await flush();
      ctl.sockets[0]!.receive(event(1));
      await flush();
      expect(alice.events).toEqual([id(1)]);
      expect(bob.events).toEqual([]);
    });

    it('gives each tab its own socket where the browser has no BroadcastChannel', async () => {
      openTab({ channels: false });
      openTab({ channels: false });
      await flush();
      expect(ctl.sockets.length).toBe(2);
    });

    it("leaves an app's specs a fake socket of their own, at once, under provideRealtimeTesting()", () => {
      TestBed.resetTestingModule();
      TestBed.configureTestingModule({ providers: [provideRealtime({ url: URL, token: ALICE }, withSharedConnection()), provideRealtimeTesting()] });
      ctl = TestBed.inject(RealtimeTestingController);
      TestBed.inject(RealtimeService);
      expect(ctl.sockets.length).toBe(1); // no lock to wait for: this Chromium has Web Locks and BroadcastChannel
      ctl.latest.open();
      expect(TestBed.inject(RealtimeService).state()).toBe('connected');
    });

    it('opens no socket on the server platform', async () => {
      TestBed.resetTestingModule();
      TestBed.configureTestingModule({ providers: [provideRealtimeTesting(), { provide: PLATFORM_ID, useValue: 'server' }] });
      ctl = TestBed.inject(RealtimeTestingController);
      const tab = openTab();
      await flush();
      expect(ctl.sockets.length).toBe(0);
      expect(tab.service.state()).toBe('disconnected');
    });

    it('ignores whatever else is posted on its channel', async () => {
      const [a, b] = await connectAll(2);
      const name = groupName(URL, 'user:alice');
      const other = net.page();
      for (const junk of [null, 42, 'x', [], { kind: 'frame' }, { kind: 'owner', from: 'x', term: 'high' }, { kind: 'frame', from: 'x', term: 9e15, frame: '{', to: null }]) {
        other.postRaw(name, junk);
      }
      // A well-formed owner message of an owner nobody elected is ignored as well: it never announced itself.
      other.postRaw(name, { kind: 'frame', from: 'intruder', term: 1, frame: JSON.stringify(event(7)), to: null });
      await flush();
      ctl.latest.receive(event(1));
      await flush();
      expect(a!.events).toEqual([id(1)]);
      expect(b!.events).toEqual([id(1)]);
    });
  });

  describe('rooms and replies', () => {
    it('joins a room once for every tab that wants it, and leaves it after the last one', async () => {
      const [a, b] = await connectAll(2);
      const socket = ctl.latest;
      const seenByA: string[] = [];
      const subA = a!.service.room('payment:p1').subscribe((e) => seenByA.push(e.id!));
      const subB = b!.service.room('payment:p1').subscribe();
      await flush();
      expect(socket.sentOfType('subscribe').map((m) => m.payload.room)).toEqual(['payment:p1']);
      ackRooms(socket);
      socket.receive(event(1, 'payment:p1'));
      await flush();
      expect(seenByA).toEqual([id(1)]);
      expect(b!.events).toEqual([id(1)]);
      subA.unsubscribe();
      await flush();
      expect(socket.sentOfType('unsubscribe')).toEqual([]);
      subB.unsubscribe();
      await flush();
      expect(socket.sentOfType('unsubscribe').map((m) => m.payload.room)).toEqual(['payment:p1']);
    });

    it("sends a room's events to the tabs that joined it only", async () => {
      const [a, b] = await connectAll(2);
      a!.service.room('payment:p1').subscribe();
      await flush();
      ackRooms(ctl.latest);
      ctl.latest.receive(event(1, 'payment:p1'));
      ctl.latest.receive(event(2));
      await flush();
      expect(a!.events).toEqual([id(1), id(2)]);
      expect(b!.events).toEqual([id(2)]);
    });

    it("answers each tab's subscribe() with its own correlation id, and a refusal to every tab that asked", async () => {
      const [a, b] = await connectAll(2);
      const acks = [a!.service.subscribe('payment:p1'), b!.service.subscribe('payment:p1')];
      await flush();
      expect(ctl.latest.sentOfType('subscribe').length).toBe(1);
      ackRooms(ctl.latest);
      await flush();
      const [ackA, ackB] = await Promise.all(acks);
      expect(ackA!.correlationId).toMatch(/^sub-/);
      expect(ackB!.correlationId).toMatch(/^sub-/);
      // Joined already: the next tab's request is answered without asking the gateway again.
      const third = openTab();
      await flush();
      const ackC = third.service.subscribe('payment:p1');
      await flush();
      await expectAsync(ackC).toBeResolvedTo(jasmine.objectContaining({ room: 'payment:p1' }));
      expect(ctl.latest.sentOfType('subscribe').length).toBe(1);

      const refused = [a!.service.subscribe('payment:other'), b!.service.subscribe('payment:other')];
      await flush();
      ackRooms(ctl.latest, ['payment:other']);
      await flush();
      for (const r of refused) await expectAsync(r).toBeRejectedWith(jasmine.objectContaining({ code: 'FORBIDDEN' }));
    });

    it('routes a reply to the tab whose message carried its correlation id', async () => {
      const [a, b] = await connectAll(2);
      expect(b!.service.send({ type: 'ping', correlationId: 'from-b' })).toBeTrue();
      await flush();
      expect(ctl.latest.sentOfType('ping').map((m) => m.correlationId)).toEqual(['from-b']);
      ctl.latest.receive({ type: 'pong', payload: {}, timestamp: TS, correlationId: 'from-b' });
      await flush();
      expect(b!.messages.map((m) => m.type)).toEqual(['pong']);
      expect(a!.messages).toEqual([]);
    });

    it('never takes the socket out of its handshake rooms when one tab unsubscribes from them', async () => {
      const [a, b] = await connectAll(2);
      await a!.service.subscribe('user:alice'); // answered at once: the socket is there since its handshake
      const left = b!.service.unsubscribe('user:alice');
      await flush();
      await expectAsync(left).toBeResolved();
      expect(ctl.latest.sentOfType('subscribe')).toEqual([]);
      expect(ctl.latest.sentOfType('unsubscribe')).toEqual([]);
    });
  });

  describe('presence', () => {
    it("watches a room once for every tab; one tab's stop does not stop another's watch, the last one's does", async () => {
      const [a, b] = await connectAll(2);
      const socket = ctl.latest;
      const seenByA = watchPresence(a!, 'user:bob');
      const seenByB = watchPresence(b!, 'user:bob');
      await flush();
      expect(presenceSent(socket)).toEqual(['watch user:bob']);
      answerPresence(socket, { 'user:bob': ['bob'] });
      await flush();
      expect(seenByA.seen).toEqual([['bob']]);
      expect(seenByB.seen).toEqual([['bob']]);

      seenByA.stop(); // a's watch:false keeps the socket watching for b (a still gets the list it asked for)
      await flush();
      expect(presenceSent(socket)).toEqual(['watch user:bob', 'watch user:bob']);
      answerPresence(socket, { 'user:bob': ['bob'] });
      socket.receive(left('user:bob', 'bob'));
      await flush();
      expect(seenByB.seen).toEqual([['bob'], ['bob'], []]);
      expect(a!.messages.filter((m) => m.type === 'presence:left')).toEqual([]); // a no longer watches: not sent to it

      seenByB.stop();
      await flush();
      expect(presenceSent(socket)).toEqual(['watch user:bob', 'watch user:bob', 'unwatch user:bob']);
    });

    it("answers each tab's request with its own correlation id, and sends a room's changes to the tabs watching it only", async () => {
      const [a, b] = await connectAll(2);
      const bob = watchPresence(a!, 'user:bob');
      const viewers = watchPresence(b!, 'payment:p1');
      await flush();
      answerPresence(ctl.latest, { 'user:bob': [], 'payment:p1': ['carol'] });
      ctl.latest.receive(joined('user:bob', 'bob'));
      ctl.latest.receive(joined('payment:p1', 'dave'));
      await flush();
      expect(bob.seen).toEqual([[], ['bob']]);
      expect(viewers.seen).toEqual([['carol'], ['carol', 'dave']]);
      const presenceOf = (tab: Tab) => tab.messages.filter((m) => m.type.startsWith('presence')).map((m) => `${m.type} ${(m.payload as { room: string }).room}`);
      expect(presenceOf(a!)).toEqual(['presence user:bob', 'presence:joined user:bob']);
      expect(presenceOf(b!)).toEqual(['presence payment:p1', 'presence:joined payment:p1']);
      // Each list carries the id of the tab's own request (its presence$ took it as the answer it waits for).
      for (const tab of [a!, b!]) expect(tab.messages.find((m) => m.type === 'presence')!.correlationId).toMatch(/^presence-/);
    });

    it('stops watching the rooms of a tab that closes, unless another tab watches them', async () => {
      const [a, b] = await connectAll(2);
      watchPresence(a!, 'user:bob');
      watchPresence(a!, 'user:carol');
      const carol = watchPresence(b!, 'user:carol');
      await flush();
      answerPresence(ctl.latest, { 'user:carol': ['carol'] });
      await flush();
      a!.close(); // a was the owner: b takes over; a new socket watches what b watches
      await flush();
      expect(ctl.sockets.length).toBe(2);
      ctl.latest.open();
      await flush();
      expect(presenceSent(ctl.latest)).toEqual(['watch user:carol']);
      answerPresence(ctl.latest, { 'user:carol': ['carol'] });
      ctl.latest.receive(left('user:carol', 'carol'));
      await flush();
      expect(carol.seen).toEqual([['carol'], ['carol'], []]);

      // A member (not the owner) that closes: the owner stops watching what only it watched.
      const c = openTab();
      await flush();
      watchPresence(c, 'user:dave');
      await flush();
      answerPresence(ctl.latest);
      c.close();
      await flush();
      expect(presenceSent(ctl.latest)).toEqual(['watch user:carol', 'watch user:dave', 'unwatch user:dave']);
    });

    it('watches again after a hand-over what every tab watches, once per room, and every watching tab gets the changes', async () => {
      const [owner, a, b] = await connectAll(3);
      const bobByA = watchPresence(a!, 'user:bob');
      const bobByB = watchPresence(b!, 'user:bob');
      const viewersByB = watchPresence(b!, 'payment:p1');
      await flush();
      answerPresence(ctl.latest, { 'user:bob': ['bob'] });
      await flush();
      owner!.close();
      await flush();
      ctl.latest.open();
      await flush();
      // The new owner watches from the roster it inherited; the tabs' own re-watches wait for the same requests.
      expect(presenceSent(ctl.latest).sort()).toEqual(['watch payment:p1', 'watch user:bob']);
      answerPresence(ctl.latest, { 'user:bob': ['bob'], 'payment:p1': ['carol'] });
      ctl.latest.receive(left('user:bob', 'bob'));
      ctl.latest.receive(joined('payment:p1', 'dave'));
      await flush();
      expect(bobByA.seen.at(-1)).toEqual([]);
      expect(bobByB.seen.at(-1)).toEqual([]);
      expect(viewersByB.seen.at(-1)).toEqual(['carol', 'dave']);
      expect(presenceSent(ctl.latest).length).toBe(2);
    });

    it('passes a refusal to every tab that asked: each watch errors, and the socket is not left watching', async () => {
      const [a, b] = await connectAll(2);
      const errors: string[] = [];
      for (const tab of [a!, b!]) tab.service.presence$('user:mallory').subscribe({ error: (e: { code: string }) => errors.push(e.code) });
      await flush();
      const [request] = ctl.latest.sentOfType('presence');
      ctl.latest.receive({
        type: 'error',
        payload: { code: 'FORBIDDEN', message: 'not your room', room: 'user:mallory' },
        timestamp: TS,
        correlationId: request!.correlationId,
      });
      await flush();
      expect(errors).toEqual(['FORBIDDEN', 'FORBIDDEN']);
      a!.close();
      await flush();
      ctl.latest.open();
      await flush();
      expect(presenceSent(ctl.latest)).toEqual([]); // nobody watches it: the next owner does not ask
    });
  });

  describe('hand-over', () => {
    async function liveWithEvents(count: number) {
      const tabs = await connectAll(count);
      for (const n of [1, 2, 3]) ctl.latest.receive(event(n));
      await flush();
      return tabs;
    }

    /** The gateway's side of a resume: the missed events, its answer, then live ones. */
    function replay(socket: FakeWebSocket, missed: number[], live: number[]) {
      const resume = socket.sentOfType('resume')[0]!;
      for (const n of missed) socket.receive(event(n));
      socket.receive({ type: 'resumed', payload: { since: resume.payload.since!, replayed: missed.length }, timestamp: TS, correlationId: resume.correlationId });
      for (const n of live) socket.receive(event(n));
    }

    it('when no tab saw an event, the socket asks for a position once, every tab takes it, and the next owner resumes from it', async () => {
      const [owner, ...rest] = await connectAll(3);
      ackRooms(ctl.latest);
      const asked = ctl.latest.sentOfType('resume');
      expect(asked.map((m) => m.payload)).toEqual([{}]); // one, for every tab
      ctl.latest.receive({ type: 'resumed', payload: { since: id(7), replayed: 0 }, timestamp: TS, correlationId: asked[0]!.correlationId });
      await flush();
      for (const tab of [owner!, ...rest]) expect(tab.service.lastEventId()).toBe(id(7));

      owner!.close();
      await flush();
      expect(ctl.latest.url).toBe(`${URL}?since=${id(7)}`);
      ctl.latest.open();
      await flush();
      ackRooms(ctl.latest);
      expect(ctl.latest.sentOfType('resume').map((m) => m.payload)).toEqual([{ since: id(7) }]);
      replay(ctl.latest, [8], [9]);
      await flush();
      for (const tab of rest) expect(tab.events).toEqual([8, 9].map(id));
    });

    it('hands over when the owner tab closes: the next tab resumes from the last event, and no tab loses or repeats one', async () => {
      const [owner, ...rest] = await liveWithEvents(4);
      owner!.close();
      await flush();
      expect(ctl.sockets.length).toBe(2);
      expect(ctl.sockets[0]!.closedByClient?.code).toBe(4010); // handed over: the gateway keeps alice present meanwhile
      expect(ctl.latest.url).toBe(`${URL}?since=${id(3)}`);
      for (const tab of rest) expect(tab.service.state()).toBe('reconnecting');
      ctl.latest.open();
      await flush();
      ackRooms(ctl.latest);
      expect(ctl.latest.sentOfType('resume').map((m) => m.payload.since)).toEqual([id(3)]); // one, for every tab
      replay(ctl.latest, [4, 5], [6]);
      await flush();
      for (const tab of rest) {
        expect(tab.events).toEqual([1, 2, 3, 4, 5, 6].map(id));
        expect(tab.states).toEqual(['connecting', 'connected', 'reconnecting', 'connected']);
        expect(tab.messages.filter((m) => m.type === 'resumed').length).toBe(1);
      }
      expect(socketsOpen()).toBe(1);
    });

    it('hands over when the owner tab crashes: the browser releases its lock', async () => {
      const [owner, ...rest] = await liveWithEvents(3);
      owner!.crash();
      await flush();
      expect(ctl.sockets.length).toBe(2);
      expect(ctl.latest.url).toBe(`${URL}?since=${id(3)}`);
      ctl.latest.open();
      await flush();
      replay(ctl.latest, [4], [5]);
      await flush();
      for (const tab of rest) expect(tab.events).toEqual([1, 2, 3, 4, 5].map(id));
    });

    it('takes over from a frozen owner within 2 s, and the owner stands down when it wakes, opening nothing', async () => {
      const [owner, ...rest] = await liveWithEvents(3);
      owner!.page.freeze(); // no freeze event: its lock stays held
      const frozenAt = Date.now();
      for (let waited = 0; ctl.sockets.length === 1 && waited < 5000; waited += 10) await advance(10);
      expect(ctl.sockets.length).toBe(2);
      expect(Date.now() - frozenAt).toBeLessThanOrEqual(2000);
      expect(ctl.latest.url).toBe(`${URL}?since=${id(3)}`);
      for (const tab of rest) expect(tab.service.state()).toBe('reconnecting');
      ctl.latest.open();
      await flush();
      replay(ctl.latest, [4], []);
      await flush();

      owner!.page.unfreeze();
      await flush();
      expect(ctl.sockets[0]!.closedByClient?.code).toBe(1000);
      await advance(5000, 250);
      expect(ctl.sockets.length).toBe(2);
      expect(socketsOpen()).toBe(1);
      // The old owner follows the new one now.
      ctl.latest.receive(event(5));
      await flush();
      for (const tab of [owner!, ...rest]) expect(tab.events.slice(-1)).toEqual([id(5)]);
      expect(owner!.service.state()).toBe('connected');
    });

    it('hands over at once when the owner is told it will be frozen', async () => {
      const [owner, ...rest] = await liveWithEvents(2);
      owner!.page.lifecycle.next({ type: 'freeze' });
      owner!.page.freeze();
      await flush();
      expect(ctl.sockets.length).toBe(2);
      expect(ctl.sockets[0]!.closedByClient?.code).toBe(4010);
      ctl.latest.open();
      await flush();
      expect(rest.map((t) => t.service.state())).toEqual(['connected']);
      owner!.page.unfreeze();
      owner!.page.lifecycle.next({ type: 'resume' });
      await flush();
      expect(owner!.service.state()).toBe('connected');
      expect(ctl.sockets.length).toBe(2);
    });

    it("shows every tab the owner's state: its retries, then the new socket", async () => {
      const [, follower] = await connectAll(2);
      ctl.latest.drop(); // the owner's socket fails; the owner backs off 1 s
      await flush();
      expect(follower!.service.state()).toBe('reconnecting');
      expect(follower!.service.attempt()).toBe(1);
      expect(follower!.service.nextRetryAt()).toBe(Date.now() + 1000);
      clock.tick(1000);
      await flush();
      ctl.latest.open();
      await flush();
      expect(follower!.states).toEqual(['connecting', 'connected', 'reconnecting', 'connected']);
    });

    it('elects an owner by claims on the channel where Web Locks are missing, and hands over on close', async () => {
      const tabs = [openTab({ locks: false }), openTab({ locks: false }), openTab({ locks: false })];
      await flush();
      await advance(SHARED_TIMING.settleMs * 2);
      expect(ctl.sockets.length).toBe(1);
      ctl.latest.open();
      await flush();
      ctl.latest.receive(event(1));
      await flush();
      const owner = tabs[0]!; // equal terms (one clock): the lowest member id wins
      owner.close();
      await flush();
      await advance(SHARED_TIMING.settleMs * 2);
      expect(ctl.sockets.length).toBe(2);
      expect(ctl.latest.url).toBe(`${URL}?since=${id(1)}`);
      ctl.latest.open();
      await flush();
      for (const tab of tabs.filter((t) => t !== owner)) expect(tab.service.state()).toBe('connected');
    });
  });

  describe('a tab that was away', () => {
    it('asks for a replay of what it missed; events meanwhile wait for it, and no other tab sees them twice', async () => {
      const [a, b] = await connectAll(2);
      await answerPosition(ctl.latest);
      ctl.latest.receive(event(1));
      await flush();
      b!.service.disconnect();
      await flush();
      ctl.latest.receive(event(2));
      ctl.latest.receive(event(3));
      await flush();
      expect(b!.events).toEqual([id(1)]);
      b!.service.connect();
      await flush();
      const resume = replaysAsked(ctl.latest);
      expect(resume.map((m) => m.payload.since)).toEqual([id(1)]);
      ctl.latest.receive(event(4)); // live, before the replay: held for b
      ctl.latest.receive(event(2));
      ctl.latest.receive(event(3));
      ctl.latest.receive({ type: 'resumed', payload: { since: id(1), replayed: 2 }, timestamp: TS, correlationId: resume[0]!.correlationId });
      await flush();
      expect(b!.events).toEqual([1, 2, 3, 4].map(id));
      expect(a!.events).toEqual([1, 2, 3, 4].map(id));
    });
  });

  describe('a tab back without a position', () => {
    it('gets the newest event id the socket delivered as its position, from the owner, without asking the gateway', async () => {
      const [a, b] = await connectAll(2);
      b!.service.disconnect(); // away before the socket's position came
      await flush();
      await answerPosition(ctl.latest);
      ctl.latest.receive(event(1));
      await flush();
      expect(b!.service.lastEventId()).toBeNull();
      b!.service.connect();
      await flush();
      expect(b!.service.lastEventId()).toBe(id(1));
      expect(ctl.latest.sentOfType('resume').length).toBe(1); // only the socket's own position request
      ctl.latest.receive(event(2));
      await flush();
      expect(b!.events).toEqual([id(2)]);
      expect(a!.events).toEqual([1, 2].map(id));
    });
  });

  describe('bounds', () => {
    it('gives up a replay that takes too long for what keeps coming: recovery:failed, and every event after it', async () => {
      const [, b] = await connectAll(2);
      ctl.latest.receive(event(1));
      await flush();
      b!.service.disconnect();
      await flush();
      b!.service.connect();
      await flush();
      for (let n = 2; n <= MAX_HELD_EVENTS + 2; n++) ctl.latest.receive(event(n)); // the replay never answers
      await flush();
      const failed = b!.messages.filter((m) => m.type === 'recovery:failed');
      expect(failed.map((m) => m.payload)).toEqual([{ since: id(1), reason: 'too-many' }]);
      expect(b!.events.length).toBe(MAX_HELD_EVENTS + 2);
      expect(b!.events.at(-1)).toBe(id(MAX_HELD_EVENTS + 2));
    });

    it('keeps at most a bounded number of replays waiting, and answers the others recovery:failed', async () => {
      await connectAll(1);
      await answerPosition(ctl.latest);
      const name = groupName(URL, 'user:alice');
      const other = net.page();
      for (let i = 0; i <= MAX_WAITING_REPLAYS + 1; i++) {
        const from = `stray-${i}`;
        other.postRaw(name, { kind: 'status', from, seq: 1, wants: true });
        const resume = { type: 'resume', payload: { since: id(1) }, correlationId: `r-${i}` };
        other.postRaw(name, { kind: 'write', from, frame: JSON.stringify(resume), replay: true });
      }
      await flush();
      expect(replaysAsked(ctl.latest).length).toBe(1); // one at a time on the socket
      const refused = net.posted
        .map((p) => p.message)
        .filter((m): m is { kind: 'frame'; frame: string; to: string[] } => (m as { kind: string }).kind === 'frame')
        .filter((m) => JSON.parse(m.frame).type === 'recovery:failed')
        .map((m) => m.to[0]);
      // 66 asked: 1 on the socket, 64 waiting, the last one answered at once.
      expect(refused).toEqual([`stray-${MAX_WAITING_REPLAYS + 1}`]);
    });
  });

  describe('the back-forward cache', () => {
    it('leaves the group on pagehide and comes back on pageshow, with a replay of what it missed', async () => {
      const [a, b] = await connectAll(2);
      await answerPosition(ctl.latest);
      ctl.latest.receive(event(1));
      await flush();
      b!.page.lifecycle.next({ type: 'pagehide' });
      await flush();
      ctl.latest.receive(event(2));
      await flush();
      b!.page.lifecycle.next({ type: 'pageshow', persisted: true });
      await flush();
      const resume = replaysAsked(ctl.latest);
      expect(resume.map((m) => m.payload.since)).toEqual([id(1)]);
      ctl.latest.receive(event(3));
      ctl.latest.receive(event(2));
      ctl.latest.receive({ type: 'resumed', payload: { since: id(1), replayed: 1 }, timestamp: TS, correlationId: resume[0]!.correlationId });
      await flush();
      expect(b!.events).toEqual([1, 2, 3].map(id));
      expect(a!.events).toEqual([1, 2, 3].map(id));
      expect(b!.service.state()).toBe('connected');
    });
  });

  describe('sessions and tokens', () => {
    it('signs every tab out when one signs out: the socket closes, each tab ends its session once', async () => {
      const tabs = await connectAll(3);
      ctl.latest.receive(event(1));
      await flush();
      tabs[2]!.token.set(null); // signs out in the third tab
      TestBed.tick();
      await flush();
      expect(tabs.map((t) => t.ended)).toEqual([1, 1, 1]);
      expect(tabs.map((t) => t.service.state())).toEqual(['disconnected', 'disconnected', 'disconnected']);
      expect(ctl.latest.closedByClient?.code).toBe(1000);
      expect(tabs.map((t) => t.service.lastEventId())).toEqual([null, null, null]);
      // The app then empties every tab's token (a shared login): nothing ends twice.
      for (const tab of tabs) tab.token.set(null);
      TestBed.tick();
      await flush();
      expect(tabs.map((t) => t.ended)).toEqual([1, 1, 1]);
      // Signing in again: one socket, and no resume from the previous session.
      const again = fakeJwt(NOW_S + 1800, 'alice');
      for (const tab of tabs) tab.token.set(again);
      TestBed.tick();
      await flush();
      expect(ctl.sockets.length).toBe(2);
      expect(ctl.latest.url).toBe(URL);
      ctl.latest.open();
      await flush();
      expect(tabs.map((t) => t.service.state())).toEqual(['connected', 'connected', 'connected']);
    });

    it('connects again in one tab signed out and in (a new session id), with no resume of the old session', async () => {
      const first = jwt({ userId: 'bob', sid: 's1', exp: NOW_S + 900 });
      const tab = openTab({ token: first });
      await flush();
      ctl.latest.open();
      await flush();
      ctl.latest.receive(event(1, 'user:bob'));
      await flush();
      tab.token.set(null);
      TestBed.tick();
      await flush();
      expect(tab.ended).toBe(1);
      tab.token.set(jwt({ userId: 'bob', sid: 's2', exp: NOW_S + 900 }));
      TestBed.tick();
      await flush();
      expect(ctl.sockets.length).toBe(2);
      expect(ctl.latest.url).toBe(URL);
      ctl.latest.open();
      await flush();
      expect(tab.service.state()).toBe('connected');
    });

    it('refreshes the token once for every tab, and the next owner starts with the refreshed one', async () => {
      const fresh = fakeJwt(NOW_S + 1800, 'alice');
      const tabs = [openTab({ refreshTo: fresh }), openTab({ refreshTo: fresh }), openTab({ refreshTo: fresh })];
      await flush();
      ctl.latest.open();
      await flush();
      ctl.latest.serverClose(4001, 'token expired');
      await flush();
      expect(tabs.map((t) => t.refreshes.length)).toEqual([1, 0, 0]);
      expect(ctl.latest.bearerToken).toBe(fresh);
      ctl.latest.open();
      await flush();
      tabs[0]!.close();
      await flush();
      expect(ctl.sockets.length).toBe(3);
      expect(ctl.latest.bearerToken).toBe(fresh);
      expect(tabs.map((t) => t.refreshes.length)).toEqual([1, 0, 0]);
    });
  });

  describe('in-band token refresh', () => {
    const inBand = { heartbeat: false as const, tokenRefresh: { leadTimeMs: 4000, jitter: 0 } };
    /** The owner's announcements: the token the socket uses, as every tab hears it. */
    const announcedTokens = () =>
      net.posted.flatMap(({ message }) => ((message as { kind: string }).kind === 'owner' ? [(message as { token: string | null }).token] : []));

    it('refreshes on the open socket once for every tab; the tabs hear the new token, and the next owner starts with it', async () => {
      const short = fakeJwt(NOW_S + 10, 'alice', { iat: NOW_S });
      const fresh = fakeJwt(NOW_S + 20, 'alice', { iat: NOW_S + 6 });
      const tabs = [0, 1, 2].map(() => openTab({ token: short, refreshTo: fresh, config: inBand }));
      await flush();
      ctl.latest.open();
      await flush();
      await advance(6000, 100); // 4 s before exp
      expect(tabs.map((t) => t.refreshes)).toEqual([[short], [], []]);
      const auth = ctl.latest.sentOfType('auth');
      expect(auth.map((m) => m.payload.token)).toEqual([fresh]);
      ctl.latest.receive({ type: 'authenticated', payload: { expiresAt: new Date((NOW_S + 20) * 1000).toISOString() }, timestamp: new Date().toISOString(), correlationId: auth[0]!.correlationId });
      await flush();
      expect(announcedTokens().at(-1)).toBe(fresh);
      expect(ctl.sockets.length).toBe(1);
      expect(tabs.map((t) => t.service.state())).toEqual(['connected', 'connected', 'connected']);

      tabs[0]!.close();
      await flush();
      expect(ctl.sockets.length).toBe(2);
      expect(ctl.latest.bearerToken).toBe(fresh); // not the tab's own (short) token: that one expires in 4 s
      ctl.latest.open();
      await flush();
      // The new owner refreshes the adopted token in-band, 4 s before its exp; nobody else does.
      await advance(10_000, 100);
      expect(tabs.map((t) => t.refreshes)).toEqual([[short], [fresh], []]);
      expect(ctl.latest.sentOfType('auth').length).toBe(1);
      expect(ctl.sockets.length).toBe(2);
    });
  });

  describe('connect() and disconnect() in one tab', () => {
    it('closes the socket with 1000 when the last tab that wants it closes, or signs out; with 4010 only to hand it over', async () => {
      const [a, b] = await connectAll(2);
      b!.service.disconnect(); // b stays, but no longer wants the socket
      await flush();
      a!.close();
      await flush();
      expect(ctl.sockets[0]!.closedByClient?.code).toBe(1000);
      b!.service.connect();
      await flush();
      ctl.latest.open();
      await flush();
      const c = openTab();
      await flush();
      c.token.set(null); // a sign-out in another tab: the session ends for every tab, nothing is handed over
      TestBed.tick();
      await flush();
      expect(ctl.latest.closedByClient?.code).toBe(1000);
    });

    it('keeps the socket while another tab wants it, and closes it when none does', async () => {
      const [a, b] = await connectAll(2);
      a!.service.disconnect();
      await flush();
      expect(a!.service.state()).toBe('disconnected');
      expect(b!.service.state()).toBe('connected');
      expect(socketsOpen()).toBe(1);
      b!.service.disconnect();
      await flush();
      expect(socketsOpen()).toBe(0);
      a!.service.connect();
      await flush();
      expect(ctl.sockets.length).toBe(2);
    });
  });
});
