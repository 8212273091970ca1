/**
 * Replays on fake sockets and a fake bus whose answers the test releases: holding live events from
 * the handshake, the replay, buffering while it is fetched, the order in which it finishes, the
 * answers when recovery fails, writing only as fast as the socket drains, and its bounds.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import type { PublishRequest, Room, RoomEvent } from '@payments-system/protocol';
import { fakeConnection, FakeStream, quietServices, type Received } from '../../test/support/fakes.ts';
import type { Bus, EventSink, ReplayResult, StoredEvent } from '../bus/bus.ts';
import type { Connection } from './connection.ts';
import { Outbound } from './outbound.ts';
import { Replays, RESUME_WAIT_MS } from './replay.ts';
import { reply } from './reply.ts';
import { RoomRegistry } from './room-registry.ts';

/** A bus whose `replay` answers when the test says so. */
class FakeBus implements Bus {
  readonly requests: Array<{ since: string; rooms: Room[]; limit: number; answer(result: ReplayResult): void }> = [];
  livePosition = '0-0';

  replay(since: string, rooms: Iterable<Room>, limit: number): Promise<ReplayResult> {
    return new Promise((answer) => this.requests.push({ since, rooms: [...rooms].sort(), limit, answer }));
  }
  position(): string {
    return this.livePosition;
  }
  start(_sink: EventSink): Promise<void> {
    throw new Error('not used by replays');
  }
  publish(_request: PublishRequest): Promise<string> {
    throw new Error('not used by replays');
  }
  close(): Promise<void> {
    throw new Error('not used by replays');
  }
}

const ALICE_ROOM: Room = 'user:alice';
const OTHER_ROOM: Room = 'user:bob';
const BOUND = 64 * 1024;

function event(id: string, room: Room = ALICE_ROOM, size = 10): RoomEvent {
  return { type: 'system:broadcast', payload: { message: `${id}:${'x'.repeat(size)}`, level: 'info' }, timestamp: '2026-01-01T00:00:00.000Z', id, room };
}
const stored = (e: RoomEvent): StoredEvent => ({ room: e.room!, event: e });

function harness(maxEvents = 100) {
  const bus = new FakeBus();
  const rooms = new RoomRegistry();
  const slow: Connection[] = [];
  const services = quietServices();
  const outbound = new Outbound(BOUND, (connection) => slow.push(connection));
  const replays = new Replays(bus, rooms, maxEvents, outbound, (connection, type, payload, correlationId) =>
    reply({ outbound, metrics: services.metrics }, connection, type, payload, correlationId),
  );
  /** What the bus does for every live event: deliver to the room's members, then let replays see it. */
  const live = (e: RoomEvent): void => {
    for (const socket of rooms.members(e.room!) ?? []) outbound.sendText(socket.connection, JSON.stringify(e));
    bus.livePosition = e.id!;
    replays.observe(e.room!, e);
  };
  const member = (stream?: FakeStream) => {
    const connection = fakeConnection({ userId: 'alice', ...(stream && { stream }) });
    rooms.join(connection, ALICE_ROOM);
    return connection;
  };
  return { bus, rooms, replays, slow, live, member };
}

/** What a client read: event ids, and the replies by type. */
const seen = (connection: ReturnType<typeof fakeConnection>): string[] =>
  connection.socket.received().map((frame: Received) => (frame === 'ping' ? 'ping' : (frame.id ?? frame.type)));

/** Lets the bus's answer (a resolved promise) reach the replay. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
afterEach(() => mock.timers.reset());

describe('replay', () => {
  it('holds live events from the handshake, replays the missed ones, then the held ones, once each and in order', async () => {
    const { bus, rooms, replays, live, member } = harness();
    const alice = member();
    replays.hold(alice, '5-0');
    assert.equal(rooms.members(ALICE_ROOM), undefined, 'out of its rooms while held');
    live(event('7-0'));
    assert.deepEqual(seen(alice), [], 'nothing live before the replay');
    assert.equal(replays.canResume(alice), true, 'held: its resume may start the replay');

    const started = replays.start(alice, '5-0', 'r1');
    assert.equal(replays.canResume(alice), false, 'a second resume is refused while this one runs');
    live(event('8-0'));
    bus.requests[0]!.answer({ ok: true, events: [stored(event('6-0')), stored(event('6-1', OTHER_ROOM)), stored(event('7-0'))] });
    await started;

    assert.deepEqual(seen(alice), ['6-0', '7-0', 'resumed', '8-0'], 'held 7-0 was replayed already: sent once');
    const resumed = alice.socket.messages().find((message) => message.type === 'resumed')!;
    assert.deepEqual(resumed.payload, { since: '5-0', replayed: 2 });
    assert.equal(resumed.correlationId, 'r1');
    assert.equal(replays.size, 0);
    live(event('9-0'));
    assert.deepEqual(seen(alice).at(-1), '9-0', 'back in its rooms: live again');
    assert.equal(replays.canResume(alice), true);
  });

  it("asks the bus for the socket's rooms only, at most RECOVERY_MAX_EVENTS after `since`", async () => {
    const { bus, replays, member } = harness(25);
    const alice = member();
    const started = replays.start(alice, '3-0', undefined);
    assert.deepEqual(bus.requests.map(({ since, rooms, limit }) => [since, rooms, limit]), [['3-0', [ALICE_ROOM], 25]]);
    bus.requests[0]!.answer({ ok: true, events: [] });
    await started;
    assert.deepEqual(seen(alice), ['resumed']);
  });

  it('keeps rooms joined and left during the replay for after it', async () => {
    const { bus, replays, live, member } = harness();
    const alice = member();
    const started = replays.start(alice, '1-0', undefined);
    replays.leave(alice, ALICE_ROOM);
    replays.join(alice, 'broadcast');
    live(event('2-0', ALICE_ROOM));
    live(event('2-1', 'broadcast'));
    bus.requests[0]!.answer({ ok: true, events: [stored(event('1-5', ALICE_ROOM))] });
    await settle();
    // The room joined while the bus was read is read too, with what is left of the limit.
    assert.deepEqual(bus.requests.map(({ rooms, limit }) => [rooms, limit]), [[[ALICE_ROOM], 100], [['broadcast'], 99]]);
    bus.requests[1]!.answer({ ok: true, events: [stored(event('1-6', 'broadcast'))] });
    await started;
    assert.deepEqual(seen(alice), ['1-6', 'resumed', '2-1']);
    live(event('3-0', ALICE_ROOM));
    live(event('3-1', 'broadcast'));
    assert.deepEqual(seen(alice).slice(3), ['3-1']);
  });

  it('finishes only once live delivery has passed the last replayed event (a lagging reader)', async () => {
    const { bus, replays, live, member } = harness();
    const alice = member();
    bus.livePosition = '5-0';
    const started = replays.start(alice, '4-0', undefined);
    bus.requests[0]!.answer({ ok: true, events: [stored(event('5-0')), stored(event('6-0'))] });
    await started;
    assert.deepEqual(seen(alice), [], 'the reader has not delivered 6-0 yet: hold everything');
    live(event('5-5', OTHER_ROOM));
    assert.deepEqual(seen(alice), [], 'still behind 6-0');
    live(event('6-0'));
    assert.deepEqual(seen(alice), ['5-0', '6-0', 'resumed'], 'the live 6-0 was replayed: not sent twice');
    live(event('7-0'));
    assert.deepEqual(seen(alice).at(-1), '7-0');
  });

  it('replays the rooms read one after the other in id order, and fails when a later read fails', async () => {
    const { bus, replays, member } = harness(10);
    bus.livePosition = '9-0';
    const alice = member();
    const started = replays.start(alice, '5-0', undefined);
    replays.join(alice, 'payment:pay_1');
    bus.requests[0]!.answer({ ok: true, events: [stored(event('6-0')), stored(event('8-0'))] });
    await settle();
    bus.requests[1]!.answer({ ok: true, events: [stored(event('7-0', 'payment:pay_1'))] });
    await started;
    assert.deepEqual(seen(alice), ['6-0', '7-0', '8-0', 'resumed']);

    const bob = member();
    const failing = replays.start(bob, '5-0', undefined);
    replays.join(bob, 'broadcast');
    bus.requests[2]!.answer({ ok: true, events: [stored(event('6-0'))] });
    await settle();
    bus.requests[3]!.answer({ ok: false, reason: 'too-many' });
    await failing;
    assert.deepEqual(seen(bob), ['recovery:failed']);
    assert.deepEqual(bob.socket.messages()[0]!.payload, { since: '5-0', reason: 'too-many' });
  });

  for (const reason of ['too-old', 'too-many', 'unavailable'] as const) {
    it(`answers recovery:failed (${reason}), then sends every held event`, async () => {
      const { bus, replays, live, member } = harness();
      const alice = member();
      const started = replays.start(alice, '1-0', 'r9');
      live(event('2-0'));
      live(event('3-0'));
      bus.requests[0]!.answer({ ok: false, reason });
      await started;
      assert.deepEqual(seen(alice), ['recovery:failed', '2-0', '3-0']);
      const failed = alice.socket.messages()[0]!;
      assert.deepEqual(failed.payload, { since: '1-0', reason });
      assert.equal(failed.correlationId, 'r9');
    });
  }

  it('starts a held replay by itself when no resume arrives within RESUME_WAIT_MS', async () => {
    const { bus, replays, member } = harness();
    const alice = member();
    replays.hold(alice, '5-0');
    mock.timers.tick(RESUME_WAIT_MS - 1);
    assert.equal(bus.requests.length, 0);
    mock.timers.tick(1);
    assert.deepEqual(bus.requests.map(({ since }) => since), ['5-0']);
    bus.requests[0]!.answer({ ok: true, events: [] });
    await settle();
    assert.deepEqual(seen(alice), ['resumed']);
  });

  it('writes only as fast as the socket drains, and goes live only after the last held event', async () => {
    const { bus, replays, live, member } = harness();
    const stream = new FakeStream(200);
    stream.stalled = true;
    const alice = member(stream);
    const started = replays.start(alice, '1-0', undefined);
    live(event('9-0'));
    bus.requests[0]!.answer({ ok: true, events: Array.from({ length: 6 }, (_, i) => stored(event(`2-${i}`, ALICE_ROOM, 100))) });
    await started;
    const first = seen(alice).length;
    assert.ok(first >= 1 && first < 6, `stopped at the high-water mark after ${first} events`);
    assert.equal(replays.size, 1);
    live(event('9-1'));
    for (let rounds = 0; replays.size > 0 && rounds < 10; rounds++) stream.drain(), (stream.stalled = true);
    assert.deepEqual(seen(alice), ['2-0', '2-1', '2-2', '2-3', '2-4', '2-5', 'resumed', '9-0', '9-1']);
    live(event('9-2'));
    assert.equal(seen(alice).at(-1), '9-2');
  });

  it('reports a socket whose held events and backlog pass WS_MAX_BUFFERED_BYTES, and forgets its replay', async () => {
    const { bus, replays, live, slow, member } = harness();
    const alice = member();
    const started = replays.start(alice, '1-0', undefined);
    for (let i = 0; slow.length === 0 && i < 100; i++) live(event(`2-${i}`, ALICE_ROOM, 4096));
    assert.deepEqual(slow, [alice]);
    assert.equal(replays.size, 0);
    bus.requests[0]!.answer({ ok: true, events: [] });
    await started;
    assert.deepEqual(seen(alice), [], 'nothing written to a slow consumer');
  });

  it('writes nothing to a socket released while its replay was fetched', async () => {
    const { bus, replays, member } = harness();
    const alice = member();
    const started = replays.start(alice, '1-0', undefined);
    replays.release(alice);
    bus.requests[0]!.answer({ ok: true, events: [stored(event('2-0'))] });
    await started;
    assert.deepEqual(seen(alice), []);
    assert.equal(replays.size, 0);
  });
});
