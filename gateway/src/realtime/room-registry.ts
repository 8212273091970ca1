/**
 * Rooms indexed both ways: room → the member sockets here, connection → rooms on the connection.
 * An emptied room is dropped, so the map never holds more rooms than have members.
 *
 * A room holds the sockets, not the connections: the broadcast loop goes from each member to its
 * TCP socket, and one object fewer on that path is measurable at thousands of recipients (each
 * socket still reaches its connection as `socket.connection`).
 */
import type { Room } from '@payments-system/protocol';
import type { ClientSocket, Connection } from './connection.ts';

export class RoomRegistry {
  private readonly rooms = new Map<Room, Set<ClientSocket>>();

  get size(): number {
    return this.rooms.size;
  }

  /** Returns false when the connection was already a member. */
  join(connection: Connection, room: Room): boolean {
    if (connection.rooms.has(room)) return false;
    let members = this.rooms.get(room);
    if (!members) this.rooms.set(room, (members = new Set()));
    members.add(connection.socket);
    connection.rooms.add(room);
    return true;
  }

  /** Returns false when the connection was not a member. */
  leave(connection: Connection, room: Room): boolean {
    if (!connection.rooms.delete(room)) return false;
    const members = this.rooms.get(room);
    if (members && members.delete(connection.socket) && members.size === 0) this.rooms.delete(room);
    return true;
  }

  leaveAll(connection: Connection): void {
    for (const room of connection.rooms) {
      const members = this.rooms.get(room);
      if (members && members.delete(connection.socket) && members.size === 0) this.rooms.delete(room);
    }
    connection.rooms.clear();
  }

  members(room: Room): ReadonlySet<ClientSocket> | undefined {
    return this.rooms.get(room);
  }
}
