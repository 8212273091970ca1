/**
 * Where room events travel between publishers and the gateways that hold the sockets.
 * The in-memory bus serves one process; a shared bus (Redis) plugs in behind the same interface.
 */
import type { PublishRequest, Room, RoomEvent } from '@payments-system/protocol';

/** Receives every event the bus carries, to deliver to local sockets. */
export type EventSink = (room: Room, event: RoomEvent) => void;

export interface Bus {
  /** Starts delivering events to `sink`. */
  start(sink: EventSink): Promise<void>;
  /** Accepts an event; resolves with its id once the bus holds it. */
  publish(request: PublishRequest): Promise<string>;
  close(): Promise<void>;
}

/** Turns a publish request into the event sockets receive. */
export function toRoomEvent(request: PublishRequest, id: string, timestamp: string): RoomEvent {
  const event = { type: request.type, payload: request.payload, timestamp, id, room: request.room } as RoomEvent;
  return request.correlationId === undefined ? event : { ...event, correlationId: request.correlationId };
}
