/**
 * Catching a reconnected socket up: `resume {since}` replays what its rooms missed after event
 * `since`, then switches it to live delivery with no gap and no duplicate.
 *
 * While replaying, the socket is out of the room registry, so live frames skip it; the events
 * its rooms receive meanwhile are buffered. A client that announces `?since=` in its handshake is
 * held that way from the moment it is accepted (`hold`), so that no live event can reach it before
 * the replay; its `resume` (sent after its subscribes) then starts the replay for all its rooms. The replay ends once the bus's live position has
 * reached the last replayed event (a Redis reader may lag behind the stream that XRANGE read),
 * then buffered events newer than that are sent and the socket rejoins its rooms.
 *
 * Memory: a replay writes as fast as the socket drains, never faster. It writes through the
 * bounded send path (outbound.ts) until the TCP socket reports its high-water mark, then waits for
 * 'drain': replayed events are serialized one at a time as the socket takes them, so a client that
 * stops reading holds at most one high-water mark of replay in the gateway (and is terminated by
 * the heartbeat, which only a pong satisfies). Live events held meanwhile are kept as frames and
 * count against the socket's bound with its backlog; past it, the socket is a slow consumer (4008).
 * One replay per socket at a time: a `resume` while one is held, fetched or written is refused.
 */
import { compareEventIds, type Room, type RoomEvent, type ServerMessageType, type ServerPayloads } from '@payments-system/protocol';
import { WebSocket } from 'ws';
import type { Bus, ReplayResult, StoredEvent } from '../bus/bus.ts';
import { mergeById } from '../bus/event-order.ts';
import type { Connection, FrameSink } from './connection.ts';
import { rawSocket, textFrame } from './frame.ts';
import type { Outbound } from './outbound.ts';
import type { RoomRegistry } from './room-registry.ts';

/** How long a socket announced with `?since=` waits for its `resume` before the replay starts anyway. */
export const RESUME_WAIT_MS = 5000;

/** Written held events are dropped from the array once this many have gone. */
const COMPACT_AFTER = 256;

/** A live event held for a replaying socket, framed once (shared by every socket that holds it). */
interface HeldEvent {
  readonly id: string | undefined;
  readonly frame: Buffer;
}

interface ReplayState {
  since: string;
  correlationId: string | undefined;
  /** Held at the handshake, waiting for the `resume` message. */
  holdTimer?: NodeJS.Timeout;
  /** The rooms the socket will rejoin; subscribe/unsubscribe during a replay change this set. */
  readonly rooms: Set<Room>;
  readonly held: HeldEvent[];
  /** Bytes of `held`, counted against the socket's bound. */
  heldBytes: number;
  result?: ReplayResult;
  /** Id of the last replayed event: live delivery must pass it before the replay can end. */
  until?: string;
  /** Set once the replay writes (see `pump`). */
  writing?: Cursor;
}

/** How far a replay has written: replayed events, then the reply, then the held events. */
interface Cursor {
  phase: 'events' | 'reply' | 'held';
  index: number;
  replayed: number;
  /** Id of the last replayed event (or `since`): held events up to it were replayed already. */
  through: string;
}

export type Reply = <K extends ServerMessageType>(connection: Connection, type: K, payload: ServerPayloads[K], correlationId?: string) => boolean;

export class Replays {
  private readonly active = new Map<Connection, ReplayState>();
  /** Id of the last event the bus delivered live. */
  private position = '0-0';

  constructor(
    private readonly bus: Bus,
    private readonly rooms: RoomRegistry,
    private readonly maxEvents: number,
    private readonly outbound: Outbound,
    private readonly reply: Reply,
  ) {}

  get size(): number {
    return this.active.size;
  }

  /** Whether a `resume` from this socket may start a replay now (none fetched or being written). */
  canResume(connection: Connection): boolean {
    const state = this.active.get(connection);
    return state === undefined || state.holdTimer !== undefined;
  }

  /** Holds live events for a socket that announced `since` in its handshake, until its `resume`. */
  hold(connection: Connection, since: string): void {
    const state = newState(since, undefined, connection);
    this.rooms.leaveAll(connection);
    this.active.set(connection, state);
    state.holdTimer = setTimeout(() => void this.start(connection, since, undefined), RESUME_WAIT_MS).unref();
  }

  /** The rooms the socket is in as its client knows them: during a replay, the rooms it will rejoin. */
  roomsOf(connection: Connection): ReadonlySet<Room> {
    return this.active.get(connection)?.rooms ?? connection.rooms;
  }

  join(connection: Connection, room: Room): void {
    const state = this.active.get(connection);
    if (state) state.rooms.add(room);
    else this.rooms.join(connection, room);
  }

  leave(connection: Connection, room: Room): void {
    const state = this.active.get(connection);
    if (state) state.rooms.delete(room);
    else this.rooms.leave(connection, room);
  }

  async start(connection: Connection, since: string, correlationId: string | undefined): Promise<void> {
    let state = this.active.get(connection);
    if (state?.holdTimer !== undefined) {
      clearTimeout(state.holdTimer);
      state.holdTimer = undefined;
      state.since = since;
      state.correlationId = correlationId;
    } else {
      // No `?since=` at the handshake: live events may already have reached the socket (the client
      // drops the overlap by id); from here on they are held like above.
      state = newState(since, correlationId, connection);
      this.rooms.leaveAll(connection);
      this.active.set(connection, state);
    }
    state.result = await this.read(state);
    if (this.active.get(connection) !== state) return; // closed meanwhile
    const last = state.result.ok ? state.result.events.at(-1)?.event.id : undefined;
    // The bus's own position, not only the last event observed here: a gateway that started after
    // the replayed events will never deliver them live, so waiting for them would hang the resume
    // until the next event is published.
    const live = this.livePosition();
    if (last !== undefined && compareEventIds(live, last) < 0) state.until = last;
    else this.write(connection, state);
  }

  /**
   * The socket's rooms' events after `since`. A room subscribed while the bus was being read is
   * read too, so that the replay covers every room the socket rejoins.
   */
  private async read(state: ReplayState): Promise<ReplayResult> {
    const read = new Set<Room>();
    const found: (readonly StoredEvent[])[] = [];
    let count = 0;
    do {
      const rooms = [...state.rooms].filter((room) => !read.has(room));
      for (const room of rooms) read.add(room);
      const result = await this.bus.replay(state.since, rooms, this.maxEvents - count);
      if (!result.ok) return result;
      found.push(result.events);
      count += result.events.length;
    } while ([...state.rooms].some((room) => !read.has(room)));
    return { ok: true, events: mergeById(found, (stored) => stored.event.id as string) };
  }

  /** Called for every event the bus delivers live, after the live delivery. */
  observe(room: Room, event: RoomEvent): void {
    this.position = event.id ?? this.position;
    if (this.active.size === 0) return;
    let frame: Buffer | undefined;
    for (const [connection, state] of this.active) {
      if (state.rooms.has(room)) {
        frame ??= textFrame(JSON.stringify(event));
        state.held.push({ id: event.id, frame });
        state.heldBytes += frame.length;
        if (!this.outbound.holds(connection, state.heldBytes)) {
          this.release(connection);
          continue;
        }
      }
      if (state.until !== undefined && state.writing === undefined && compareEventIds(this.position, state.until) >= 0) {
        this.write(connection, state);
      }
    }
  }

  /**
   * The socket's position while it is live (not held, not being replayed): events are delivered in
   * the bus's order, synchronously, so every event up to the live position has been written to it.
   */
  positionOf(connection: Connection): string | undefined {
    return this.active.has(connection) ? undefined : this.livePosition();
  }

  private livePosition(): string {
    const bus = this.bus.position();
    return compareEventIds(bus, this.position) > 0 ? bus : this.position;
  }

  /** Forgets a closed connection. */
  release(connection: Connection): void {
    clearTimeout(this.active.get(connection)?.holdTimer);
    this.active.delete(connection);
  }

  /** Starts writing a fetched replay. */
  private write(connection: Connection, state: ReplayState): void {
    state.writing = { phase: 'events', index: 0, replayed: 0, through: state.since };
    this.pump(connection, state);
  }

  /**
   * Writes what the socket takes now, then waits for 'drain'; once everything is written, the
   * socket rejoins its rooms in the same turn, so no live event can slip between.
   */
  private pump(connection: Connection, state: ReplayState): void {
    if (this.active.get(connection) !== state) return; // closed, or found too slow, meanwhile
    const socket = connection.socket;
    const raw = rawSocket(socket);
    if (connection.released || socket.readyState !== WebSocket.OPEN || raw === undefined) {
      this.active.delete(connection);
      return;
    }
    for (;;) {
      const sent = this.writeNext(connection, raw, state);
      if (sent === 'done') break;
      if (sent === 'refused') {
        this.active.delete(connection);
        return;
      }
      if (raw.writableNeedDrain) {
        raw.once('drain', () => this.pump(connection, state));
        return;
      }
    }
    this.active.delete(connection);
    for (const room of state.rooms) this.rooms.join(connection, room);
  }

  /** Writes the next frame of the replay: 'sent', 'done' (nothing left) or 'refused' (the socket is gone or too slow). */
  private writeNext(connection: Connection, raw: FrameSink, state: ReplayState): 'sent' | 'done' | 'refused' {
    const cursor = state.writing!;
    const result = state.result;
    if (cursor.phase === 'events') {
      const events = result?.ok ? result.events : [];
      while (cursor.index < events.length) {
        const { room, event } = events[cursor.index++]!;
        cursor.through = event.id ?? cursor.through;
        if (!state.rooms.has(room)) continue;
        cursor.replayed++;
        return this.outbound.write(connection.socket, raw, textFrame(JSON.stringify(event))) ? 'sent' : 'refused';
      }
      cursor.phase = 'reply';
    }
    if (cursor.phase === 'reply') {
      cursor.phase = 'held';
      cursor.index = 0;
      const sent = result?.ok
        ? this.reply(connection, 'resumed', { since: state.since, replayed: cursor.replayed }, state.correlationId)
        : this.reply(connection, 'recovery:failed', { since: state.since, reason: result?.reason ?? 'unavailable' }, state.correlationId);
      return sent ? 'sent' : 'refused';
    }
    // Held live events newer than the replay (all of them when nothing could be replayed). Written
    // ones are dropped from the front now and then, so a long replay does not keep them.
    const held = state.held;
    if (cursor.index >= COMPACT_AFTER && cursor.index * 2 >= held.length) {
      held.splice(0, cursor.index);
      cursor.index = 0;
    }
    while (cursor.index < held.length) {
      const { id, frame } = held[cursor.index++]!;
      state.heldBytes -= frame.length;
      if (result?.ok && compareEventIds(id ?? '0-0', cursor.through) <= 0) continue;
      return this.outbound.write(connection.socket, raw, frame) ? 'sent' : 'refused';
    }
    held.length = 0;
    return 'done';
  }
}

function newState(since: string, correlationId: string | undefined, connection: Connection): ReplayState {
  return { since, correlationId, rooms: new Set(connection.rooms), held: [], heldBytes: 0 };
}
