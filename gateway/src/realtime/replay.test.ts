/** The replay's bus queries with a bus whose answers the test releases: which rooms are read, and when. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import type { Room, RoomEvent } from '@payments-system/protocol';
import type { Bus, ReplayResult, StoredEvent } from '../bus/bus.ts';
import type { Connection } from './connection.ts';
import { Outbound } from './outbound.ts';
import { Replays } from './replay.ts';
import { RoomRegistry } from './room-registry.ts';

interface Query {
  readonly since: string;
  readonly rooms: Room[];
  readonly limit: number;
  answer(result: ReplayResult): void;
}

/** A bus whose replays wait until the test answers them. */
function heldBus(queries: Query[]): Bus {
  return {
    start: async () => undefined,
    publish: async () => '0-0',
    replay: (since, rooms, limit) => new Promise((resolve) => queries.push({ since, rooms: [...rooms], limit, answer: resolve })),
    position: () => '9999999999999-0',
    close: async () => undefined,
  };
}

/** A connection whose TCP socket records each frame written to it (all fit: no backlog). */
function fakeConnection(rooms: Room[]): { connection: Connection; sent: string[] } {
  const sent: string[] = [];
  const raw = {
    writableLength: 0,
    writableNeedDrain: false,
    // A server text frame: its header (2 or 4 bytes here), then the JSON payload.
    write: (frame: Buffer) => sent.push(frame.subarray(frame.indexOf('{')).toString()) > 0,
  };
  const connection = { rooms: new Set<Room>(), released: false, socket: { readyState: WebSocket.OPEN, _socket: raw } };
  const registry = new RoomRegistry();
  for (const room of rooms) registry.join(connection as unknown as Connection, room);
  return { connection: connection as unknown as Connection, sent };
}

const stored = (room: Room, id: string): StoredEvent => ({
  room,
  event: { type: 'system:broadcast', payload: { message: id, level: 'info' }, timestamp: '2026-01-01T00:00:00.000Z', id, room } as RoomEvent,
});

const outbound = new Outbound(1024 * 1024, () => assert.fail('not a slow consumer'));

const until = async (condition: () => boolean) => {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
};

describe('Replays (bus queries)', () => {
  it('asks the bus for the socket’s rooms only, with RECOVERY_MAX_EVENTS as the limit', async () => {
    const queries: Query[] = [];
    const replies: string[] = [];
    const replays = new Replays(heldBus(queries), new RoomRegistry(), 7, outbound, (_c, type) => replies.push(type) > 0);
    const { connection } = fakeConnection(['user:alice', 'broadcast']);
    const resuming = replays.start(connection, '5-0', undefined);
    await until(() => queries.length === 1);
    assert.deepEqual([queries[0]!.since, queries[0]!.rooms.sort(), queries[0]!.limit], ['5-0', ['broadcast', 'user:alice'], 7]);
    queries[0]!.answer({ ok: true, events: [] });
    await resuming;
    assert.deepEqual(replies, ['resumed']);
  });

  it('reads a room subscribed while the bus was read, within what is left of the limit, and replays both in id order', async () => {
    const queries: Query[] = [];
    const replies: Array<[string, unknown]> = [];
    const replays = new Replays(heldBus(queries), new RoomRegistry(), 10, outbound, (_c, type, payload) => replies.push([type, payload]) > 0);
    const { connection, sent } = fakeConnection(['user:alice']);
    const resuming = replays.start(connection, '5-0', undefined);
    await until(() => queries.length === 1);
    replays.join(connection, 'payment:pay_1');
    queries[0]!.answer({ ok: true, events: [stored('user:alice', '6-0'), stored('user:alice', '8-0')] });
    await until(() => queries.length === 2);
    assert.deepEqual([queries[1]!.rooms, queries[1]!.limit], [['payment:pay_1'], 8]);
    queries[1]!.answer({ ok: true, events: [stored('payment:pay_1', '7-0')] });
    await resuming;
    assert.deepEqual(sent.map((text) => (JSON.parse(text) as RoomEvent).id), ['6-0', '7-0', '8-0']);
    assert.deepEqual(replies, [['resumed', { since: '5-0', replayed: 3 }]]);
    assert.deepEqual([...connection.rooms].sort(), ['payment:pay_1', 'user:alice'], 'back in both rooms');
  });

  it('a failure of the second read fails the resume', async () => {
    const queries: Query[] = [];
    const replies: Array<[string, unknown]> = [];
    const replays = new Replays(heldBus(queries), new RoomRegistry(), 10, outbound, (_c, type, payload) => replies.push([type, payload]) > 0);
    const { connection } = fakeConnection(['user:alice']);
    const resuming = replays.start(connection, '5-0', undefined);
    await until(() => queries.length === 1);
    replays.join(connection, 'broadcast');
    queries[0]!.answer({ ok: true, events: [stored('user:alice', '6-0')] });
    await until(() => queries.length === 2);
    queries[1]!.answer({ ok: false, reason: 'too-many' });
    await resuming;
    assert.deepEqual(replies, [['recovery:failed', { since: '5-0', reason: 'too-many' }]]);
  });
});
