import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Connection } from './connection.ts';
import { RoomRegistry } from './room-registry.ts';

const connection = () => ({ rooms: new Set(), socket: {} }) as unknown as Connection;

describe('RoomRegistry', () => {
  it('indexes both ways and drops emptied rooms', () => {
    const rooms = new RoomRegistry();
    const a = connection();
    const b = connection();
    assert.equal(rooms.join(a, 'broadcast'), true);
    assert.equal(rooms.join(a, 'broadcast'), false);
    rooms.join(b, 'broadcast');
    rooms.join(a, 'user:a');
    const members = [...(rooms.members('broadcast') ?? [])];
    assert.equal(members.length, 2);
    assert.equal(members[0], a.socket, 'a room holds the sockets of its connections, in join order');
    assert.equal(members[1], b.socket);
    assert.deepEqual([...a.rooms], ['broadcast', 'user:a']);
    assert.equal(rooms.size, 2);

    assert.equal(rooms.leave(a, 'user:a'), true);
    assert.equal(rooms.leave(a, 'user:a'), false);
    assert.equal(rooms.members('user:a'), undefined);
    rooms.leaveAll(a);
    rooms.leaveAll(b);
    assert.equal(rooms.size, 0);
    assert.equal(a.rooms.size, 0);
  });
});
