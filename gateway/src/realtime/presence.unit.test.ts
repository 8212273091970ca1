/**
 * Presence through a real hub on fake sockets: who is listed, the changes watchers get (first socket
 * in, last one out), what does not change presence (a second socket, a resume), who may ask, the
 * watch bound, the order of a list and the changes that arrive while it is read, and that nothing is
 * left behind when the sockets close.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import type { PresenceMember, PresenceRoom, Role, ServerMessage } from '@payments-system/protocol';
import { counterValue, unitHub, type FakeSocket } from '../../test/support/fakes.ts';
import type { LocalMembers, PresenceListener, PresenceStore } from '../presence/presence-store.ts';

beforeEach(() => mock.timers.enable({ apis: ['Date', 'setInterval', 'setTimeout'], now: 1_765_447_200_000 }));
afterEach(() => mock.timers.reset());

const presenceOf = (room: PresenceRoom, watch = false, correlationId = 'q') =>
  ({ type: 'presence', payload: { room, watch }, correlationId }) as const;

/** The presence messages a socket got, as [type, payload] (timestamps left out). */
function presenceMessages(socket: FakeSocket): Array<[string, unknown]> {
  return socket
    .messages()
    .filter((m) => m.type.startsWith('presence'))
    .map((m) => [m.type, m.payload]);
}

function setup(options: Parameters<typeof unitHub>[0] = {}) {
  const unit = unitHub({ roomAccess: { payment: (claims, paymentId) => paymentId === `of_${claims.userId}` }, ...options });
  const customer = (userId: string, since?: string) => unit.accept({ userId, role: 'CUSTOMER' }, since);
  const admin = (userId = 'admin_1') => unit.accept({ userId, role: 'ADMIN' });
  const watch = (socket: FakeSocket, room: PresenceRoom) => unit.send(socket, presenceOf(room, true, `watch-${room}`));
  return { ...unit, customer, admin, watch };
}

describe('presence: members and changes (one gateway)', () => {
  it('lists the users with sockets in a room, with their role and socket count', () => {
    const { customer, admin, send } = setup();
    customer('alice');
    customer('alice');
    const asker = admin();
    send(asker, presenceOf('user:alice', false, 'list-1'));
    const answer = asker.messages().at(-1)!;
    assert.equal(answer.type, 'presence');
    assert.equal(answer.correlationId, 'list-1');
    assert.deepEqual(answer.payload, { room: 'user:alice', members: [{ userId: 'alice', role: 'CUSTOMER', connections: 2 }] });
  });

  it('tells a watcher when a user’s first socket enters and their last one leaves, and nothing in between', () => {
    const { customer, admin, watch, close } = setup();
    const watcher = admin();
    watch(watcher, 'user:alice');
    const first = customer('alice');
    const second = customer('alice');
    close(first);
    close(second);
    assert.deepEqual(presenceMessages(watcher), [
      ['presence', { room: 'user:alice', members: [] }],
      ['presence:joined', { room: 'user:alice', userId: 'alice', role: 'CUSTOMER' }],
      ['presence:left', { room: 'user:alice', userId: 'alice' }],
    ]);
  });

  it('follows subscribe and unsubscribe of a payment room: who is looking at this payment', () => {
    const { customer, admin, watch, send } = setup();
    const owner = customer('alice');
    const viewer = admin('admin_2');
    watch(owner, 'payment:of_alice');
    send(viewer, { type: 'subscribe', payload: { room: 'payment:of_alice' } });
    send(viewer, { type: 'subscribe', payload: { room: 'payment:of_alice' } }); // twice: still one socket in it
    send(viewer, { type: 'unsubscribe', payload: { room: 'payment:of_alice' } });
    assert.deepEqual(presenceMessages(owner), [
      ['presence', { room: 'payment:of_alice', members: [] }],
      ['presence:joined', { room: 'payment:of_alice', userId: 'admin_2', role: 'ADMIN' }],
      ['presence:left', { room: 'payment:of_alice', userId: 'admin_2' }],
    ]);
  });

  it('keeps a resuming socket present: a replay takes it out of delivery, not out of its rooms', async () => {
    const { customer, admin, watch, send, hub } = setup();
    const watcher = admin();
    const resuming = customer('alice', '1765447200000-0'); // held from the handshake on
    watch(watcher, 'user:alice');
    send(resuming, { type: 'resume', payload: { since: '1765447200000-0' } });
    await Promise.resolve();
    assert.deepEqual(presenceMessages(watcher), [['presence', { room: 'user:alice', members: [{ userId: 'alice', role: 'CUSTOMER', connections: 1 }] }]]);
    assert.equal(hub.stats().presenceRooms, 2, "alice's and the admin's user rooms");
  });

  it('lets a socket that closes during its replay leave, and counts its subscribes made meanwhile', () => {
    const { customer, admin, watch, send, close, hub } = setup();
    const watcher = admin();
    watch(watcher, 'user:alice');
    watch(watcher, 'payment:of_alice');
    const held = customer('alice', '1765447200000-0');
    send(held, { type: 'subscribe', payload: { room: 'payment:of_alice' } });
    close(held);
    assert.deepEqual(presenceMessages(watcher).slice(2), [
      ['presence:joined', { room: 'user:alice', userId: 'alice', role: 'CUSTOMER' }],
      ['presence:joined', { room: 'payment:of_alice', userId: 'alice', role: 'CUSTOMER' }],
      ['presence:left', { room: 'user:alice', userId: 'alice' }],
      ['presence:left', { room: 'payment:of_alice', userId: 'alice' }],
    ]);
    assert.equal(hub.stats().presenceRooms, 1, "only the admin's own room");
  });

  it('stops telling a watcher after watch:false, and a closed watcher is forgotten', () => {
    const { customer, admin, watch, send, close, hub } = setup();
    const watcher = admin();
    watch(watcher, 'user:alice');
    watch(watcher, 'user:bob');
    assert.equal(hub.stats().presenceWatches, 2);
    send(watcher, presenceOf('user:alice', false));
    customer('alice');
    assert.deepEqual(presenceMessages(watcher).map(([type]) => type), ['presence', 'presence', 'presence']);
    assert.equal(hub.stats().presenceWatches, 1);
    close(watcher);
    assert.equal(hub.stats().presenceWatches, 0);
  });

  it('counts a watch once per room, and refuses more than WS_MAX_PRESENCE_WATCHES with RATE_LIMITED', async () => {
    const { admin, watch, metrics, hub } = setup({ config: { maxPresenceWatches: 2 } });
    const watcher = admin();
    watch(watcher, 'user:a');
    watch(watcher, 'user:a');
    watch(watcher, 'user:b');
    watch(watcher, 'user:c');
    const answer = watcher.messages().at(-1)!;
    assert.equal(answer.type, 'error');
    assert.deepEqual(answer.payload, { code: 'RATE_LIMITED', room: 'user:c', message: 'watching too many rooms (at most 2); stop watching one first' });
    assert.equal(hub.stats().presenceWatches, 2);
    assert.equal(await counterValue(metrics, 'gateway_presence_requests_total', { outcome: 'too-many-watches' }), 1);
  });

  it('answers FORBIDDEN, naming the room, for a room the socket may not join', () => {
    const { customer, send, hub } = setup();
    const alice = customer('alice');
    for (const room of ['user:bob', 'payment:of_bob'] as const) {
      send(alice, presenceOf(room, true, room));
      const answer = alice.messages().at(-1)!;
      assert.equal(answer.type, 'error');
      assert.deepEqual(answer.payload, { code: 'FORBIDDEN', room, message: `not allowed to see who is in ${room}` });
      assert.equal(answer.correlationId, room);
    }
    send(alice, presenceOf('payment:of_alice', true));
    assert.equal(alice.messages().at(-1)!.type, 'presence', 'the embedder’s rule decides payment rooms');
    assert.equal(hub.stats().presenceWatches, 1);
  });

  it('leaves nothing behind once every socket has closed', () => {
    const { customer, admin, watch, send, close, hub } = setup();
    const sockets = [customer('alice'), customer('alice'), customer('bob'), admin()];
    watch(sockets[3]!, 'user:alice');
    send(sockets[3]!, { type: 'subscribe', payload: { room: 'payment:p1' } });
    send(sockets[0]!, { type: 'subscribe', payload: { room: 'payment:of_alice' } });
    assert.ok(hub.stats().presenceRooms > 0);
    for (const socket of sockets) close(socket);
    assert.deepEqual([hub.stats().presenceRooms, hub.stats().presenceWatches, hub.stats().connections], [0, 0, 0]);
  });
});

describe('presence: a socket its tab hands over to another tab of the browser', () => {
  const HAND_OVER = 4010;

  it('keeps the user present for 2 s: the next socket enters meanwhile, and watchers see no change', () => {
    const { customer, admin, watch, send, close, hub } = setup();
    const watcher = admin();
    watch(watcher, 'user:alice');
    watch(watcher, 'payment:of_alice');
    const owner = customer('alice');
    send(owner, { type: 'subscribe', payload: { room: 'payment:of_alice' } });
    close(owner, HAND_OVER);
    assert.equal(hub.stats().presenceHandOvers, 1);
    mock.timers.tick(1999);
    const next = customer('alice');
    send(next, { type: 'subscribe', payload: { room: 'payment:of_alice' } });
    mock.timers.tick(1);
    assert.equal(hub.stats().presenceHandOvers, 0);
    const changes = () => presenceMessages(watcher).filter(([type]) => type !== 'presence');
    assert.deepEqual(changes(), [
      ['presence:joined', { room: 'user:alice', userId: 'alice', role: 'CUSTOMER' }],
      ['presence:joined', { room: 'payment:of_alice', userId: 'alice', role: 'CUSTOMER' }],
    ]);
    close(next); // an ordinary close: at once
    assert.deepEqual(changes().slice(2), [
      ['presence:left', { room: 'user:alice', userId: 'alice' }],
      ['presence:left', { room: 'payment:of_alice', userId: 'alice' }],
    ]);
  });

  it('lets the user leave when the grace ends and no socket followed; any other code leaves at once', () => {
    const { customer, admin, watch, close, hub } = setup();
    const watcher = admin();
    watch(watcher, 'user:alice');
    watch(watcher, 'user:bob');
    close(customer('alice'), HAND_OVER);
    close(customer('bob'), 1001);
    assert.deepEqual(presenceMessages(watcher).at(-1), ['presence:left', { room: 'user:bob', userId: 'bob' }]);
    mock.timers.tick(1999);
    assert.equal(presenceMessages(watcher).filter(([type]) => type === 'presence:left').length, 1);
    mock.timers.tick(1);
    assert.deepEqual(presenceMessages(watcher).at(-1), ['presence:left', { room: 'user:alice', userId: 'alice' }]);
    assert.deepEqual([hub.stats().presenceRooms, hub.stats().presenceHandOvers], [1, 0], "only the admin's own room");
  });

  it('keeps at most WS_MAX_SOCKETS_PER_USER closed sockets of a user present; one more leaves at once', () => {
    const { customer, close, hub } = setup({ config: { maxSocketsPerUser: 2 } });
    for (let i = 0; i < 3; i++) close(customer('alice'), HAND_OVER);
    assert.equal(hub.stats().presenceHandOvers, 2);
    assert.equal(hub.presence.local.size, 1, 'alice is still present');
    mock.timers.tick(2000);
    assert.deepEqual([hub.stats().presenceHandOvers, hub.presence.local.size], [0, 0]);
  });

  it('ends every grace when presence closes (the gateway stops)', async () => {
    const { customer, close, hub } = setup();
    close(customer('alice'), HAND_OVER);
    await hub.presence.close();
    assert.deepEqual([hub.stats().presenceHandOvers, hub.presence.local.size], [0, 0]);
  });
});

/** A store whose member lists answer when the test says, and that pushes changes by hand. */
class ManualStore implements PresenceStore {
  listener!: PresenceListener;
  local!: LocalMembers;
  readonly lists: Array<{ room: PresenceRoom; answer(members: readonly PresenceMember[]): void; fail(error: Error): void }> = [];

  async start(listener: PresenceListener, local: LocalMembers): Promise<void> {
    this.listener = listener;
    this.local = local;
  }
  changed(): void {}
  members(room: PresenceRoom): Promise<readonly PresenceMember[]> {
    return new Promise((answer, fail) => this.lists.push({ room, answer, fail }));
  }
  async close(): Promise<void> {}
  joined(room: PresenceRoom, userId: string, role: Role = 'CUSTOMER'): void {
    this.listener.change({ change: 'joined', room, userId, role });
  }
}

describe('presence: a store that answers later (Redis)', () => {
  async function manual() {
    const store = new ManualStore();
    const unit = setup({ presence: store });
    return { ...unit, store };
  }

  it('holds the changes that arrive while the list is read, and sends them after it, in order', async () => {
    const { store, admin, watch } = await manual();
    const watcher = admin();
    watch(watcher, 'user:alice');
    store.joined('user:alice', 'alice');
    store.listener.change({ change: 'left', room: 'user:alice', userId: 'alice' });
    assert.deepEqual(presenceMessages(watcher), [], 'nothing before the list');
    store.lists[0]!.answer([]);
    await flush();
    assert.deepEqual(presenceMessages(watcher).map(([type]) => type), ['presence', 'presence:joined', 'presence:left']);
    store.joined('user:alice', 'alice');
    assert.deepEqual(presenceMessages(watcher).map(([type]) => type).at(-1), 'presence:joined', 'live once listed');
  });

  it('holds until every pending list of the room went out', async () => {
    const { store, admin, watch } = await manual();
    const watcher = admin();
    watch(watcher, 'user:alice');
    watch(watcher, 'user:alice');
    store.joined('user:alice', 'alice');
    store.lists[0]!.answer([]);
    await flush();
    assert.deepEqual(presenceMessages(watcher).map(([type]) => type), ['presence']);
    store.lists[1]!.answer([{ userId: 'alice', role: 'CUSTOMER', connections: 1 }]);
    await flush();
    assert.deepEqual(presenceMessages(watcher).map(([type]) => type), ['presence', 'presence', 'presence:joined']);
  });

  it('answers SERVICE_UNAVAILABLE when the list cannot be read, and that watch is dropped', async () => {
    const { store, admin, watch, hub } = await manual();
    const watcher = admin();
    watch(watcher, 'user:alice');
    store.lists[0]!.fail(new Error('redis down'));
    await flush();
    const answer = watcher.messages().at(-1)!;
    assert.deepEqual(answer.payload, { code: 'SERVICE_UNAVAILABLE', room: 'user:alice', message: 'cannot list the members now; retry' });
    assert.equal(answer.correlationId, 'watch-user:alice');
    assert.equal(hub.stats().presenceWatches, 0);
  });

  it('keeps a watch already listed when a later list of it fails (a shared socket asks again for another tab)', async () => {
    const { store, admin, watch, hub } = await manual();
    const watcher = admin();
    watch(watcher, 'user:alice');
    store.lists[0]!.answer([]);
    await flush();
    watch(watcher, 'user:alice');
    store.lists[1]!.fail(new Error('redis down'));
    await flush();
    assert.equal((watcher.messages().at(-1)!.payload as { code: string }).code, 'SERVICE_UNAVAILABLE');
    assert.equal(hub.stats().presenceWatches, 1);
    store.joined('user:alice', 'alice');
    assert.equal(watcher.messages().at(-1)!.type, 'presence:joined', 'still watched');
  });

  it('answers SERVICE_UNAVAILABLE when the list takes longer than 2 s', async () => {
    const { admin, watch } = await manual();
    const watcher = admin();
    watch(watcher, 'user:alice');
    mock.timers.tick(2000);
    await flush();
    assert.equal((watcher.messages().at(-1)!.payload as { code: string }).code, 'SERVICE_UNAVAILABLE');
  });

  it('sends every watcher the members again, unasked, when the store may have missed changes', async () => {
    const { store, admin, watch } = await manual();
    const watchers = [admin('admin_1'), admin('admin_2')];
    for (const watcher of watchers) watch(watcher, 'payment:p1');
    for (const list of store.lists.splice(0)) list.answer([]);
    await flush();
    store.listener.lost();
    store.lists[0]!.answer([{ userId: 'bob', role: 'CUSTOMER', connections: 1 }]);
    await flush();
    for (const watcher of watchers) {
      const again = watcher.messages().at(-1)! as ServerMessage<'presence'>;
      assert.equal(again.type, 'presence');
      assert.equal(again.correlationId, undefined);
      assert.deepEqual(again.payload.members.map((m) => m.userId), ['bob']);
    }
  });
});

describe('presence: the gateway’s own lists', () => {
  it('keeps the watches, and answers nobody, when a list sent unasked cannot be read', async () => {
    const store = new ManualStore();
    const { admin, watch, hub } = setup({ presence: store });
    const watcher = admin();
    watch(watcher, 'user:alice');
    store.lists[0]!.answer([]);
    await flush();
    store.listener.lost();
    store.lists[1]!.fail(new Error('redis down'));
    await flush();
    assert.deepEqual(watcher.messages().map((m) => m.type), ['presence']);
    assert.equal(hub.stats().presenceWatches, 1);
    store.joined('user:alice', 'alice');
    assert.equal(watcher.messages().at(-1)!.type, 'presence:joined', 'still live');
  });
});

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
