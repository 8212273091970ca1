/**
 * Delivers room events to the sockets in a room. The event is serialized once; each open
 * member gets the same bytes. A member whose unsent backlog would pass the bound is closed
 * as a slow consumer instead of growing the gateway's memory.
 */
import { WebSocket } from 'ws';
import type { Room, RoomEvent } from '@payments-system/protocol';
import type { Connection } from './connection.ts';
import type { RoomRegistry } from './room-registry.ts';

const SEND_AS_TEXT = { binary: false } as const;

export interface DeliveryReport {
  readonly delivered: number;
  readonly slowConsumers: number;
}

export class Broadcaster {
  constructor(
    private readonly rooms: RoomRegistry,
    private readonly maxBufferedBytes: number,
    private readonly onSlowConsumer: (connection: Connection) => void,
  ) {}

  deliver(room: Room, event: RoomEvent): DeliveryReport {
    const members = this.rooms.members(room);
    if (!members) return { delivered: 0, slowConsumers: 0 };
    const frame = Buffer.from(JSON.stringify(event));
    let delivered = 0;
    let slowConsumers = 0;
    for (const connection of members) {
      const socket = connection.socket;
      if (socket.readyState !== WebSocket.OPEN) continue;
      if (socket.bufferedAmount + frame.length > this.maxBufferedBytes) {
        slowConsumers++;
        this.onSlowConsumer(connection);
        continue;
      }
      socket.send(frame, SEND_AS_TEXT);
      delivered++;
    }
    return { delivered, slowConsumers };
  }
}
