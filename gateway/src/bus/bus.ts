/**
 * Where room events travel between publishers and the gateways that hold the sockets, and
 * where recent events stay for a while so that a reconnecting client can catch up.
 *
 * Two implementations behind one interface, chosen by configuration: the in-memory bus (one
 * process) and the Redis bus (one Redis Stream read by every gateway). Both issue ids of the
 * form `<ms>-<seq>` in one total order (see `compareEventIds`).
 */
import type { PublishRequest, RecoveryFailedPayload, Room, RoomEvent } from '@payments-system/protocol';

/** Receives every event the bus carries, in bus order, to deliver to local sockets. */
export type EventSink = (room: Room, event: RoomEvent) => void;

export interface StoredEvent {
  readonly room: Room;
  readonly event: RoomEvent;
}

export type ReplayResult =
  | { readonly ok: true; readonly events: readonly StoredEvent[] }
  | { readonly ok: false; readonly reason: RecoveryFailedPayload['reason'] };

/** Thrown by `publish` when the bus cannot take the event now; the publisher should retry. */
export class BusUnavailable extends Error {
  override readonly name = 'BusUnavailable';
  /** Rendered by the HTTP error handler as 503 SERVICE_UNAVAILABLE with this message. */
  readonly status = 503;
  readonly expose = true;
  /** `not-replicated`: the bus took the event but too few replicas acknowledged it in time. */
  constructor(
    message: string,
    readonly reason: 'unavailable' | 'not-replicated' = 'unavailable',
  ) {
    super(message);
  }
}

export interface PublishOptions {
  /**
   * The publisher's key for this event (the `Idempotency-Key` of `POST /api/events`). A publish
   * with a key the bus has seen within its retention age adds nothing and resolves with the first
   * event's id, so retrying after an ambiguous failure (a timeout, a 502, Redis dying between the
   * append and the reply) cannot deliver the event twice.
   */
  readonly idempotencyKey?: string;
}

export interface Bus {
  /** Starts delivering events to `sink`. */
  start(sink: EventSink): Promise<void>;
  /** Accepts an event; resolves with its id once the bus holds it, or throws BusUnavailable. */
  publish(request: PublishRequest, options?: PublishOptions): Promise<string>;
  /**
   * The events of `rooms` after `since`, in id order, at most `limit` of them: a resume costs the
   * client's own events, whatever the rest of the system published meanwhile. Fails with
   * `too-many` past `limit`, and with `too-old` when `since` is older than the retention age, was
   * never issued by this bus, or one of `rooms` has dropped events that came after it.
   */
  replay(since: string, rooms: Iterable<Room>, limit: number): Promise<ReplayResult>;
  /**
   * How far live delivery has got: the id of the last event handed to the sink or, before the
   * first, the id delivery started after. Every event up to it has been delivered or predates the
   * start; a replay that ends at or before it can switch to live delivery at once.
   */
  position(): string;
  close(): Promise<void>;
}

export interface Retention {
  /**
   * Length of the shared log: how far behind a gateway's reader may fall (Redis, approximately) or
   * how many events are kept at all (in-memory).
   */
  readonly count: number;
  /**
   * Each room's history keeps its newest `roomCount` events, exactly. A resume never needs more
   * than its limit + 1 of one room (more is `too-many`), so the gateway sets RECOVERY_MAX_EVENTS + 1.
   */
  readonly roomCount: number;
  /** Events older than this are dropped. */
  readonly ageMs: number;
  /** Bytes of event payloads kept at most (the in-memory bus; Redis has its own memory limits). */
  readonly bytes?: number;
}

/** The event sockets receive for a publish request with the bus's id. */
export function toRoomEvent(request: PublishRequest, id: string, timestamp: string): RoomEvent {
  const event = { type: request.type, payload: request.payload, timestamp, id, room: request.room } as RoomEvent;
  return request.correlationId === undefined ? event : { ...event, correlationId: request.correlationId };
}
