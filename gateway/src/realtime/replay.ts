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
 */
import { compareEventIds, type Room, type RoomEvent, type ServerMessageType, type ServerPayloads } from '@payments-system/protocol';
import { WebSocket } from 'ws';
import type { Bus, ReplayResult } from '../bus/bus.ts';
import type { Connection } from './connection.ts';
import type { RoomRegistry } from './room-registry.ts';

/** How long a socket announced with `?since=` waits for its `resume` before the replay starts anyway. */
export const RESUME_WAIT_MS = 5000;

interface ReplayState {
  since: string;
  correlationId: string | undefined;
  /** Held at the handshake, waiting for the `resume` message. */
  holdTimer?: NodeJS.Timeout;
  /** The rooms the socket will rejoin; subscribe/unsubscribe during a replay change this set. */
  readonly rooms: Set<Room>;
  readonly buffer: RoomEvent[];
  result?: ReplayResult;
  /** Id of the last replayed event: live delivery must pass it before the replay can end. */
  until?: string;
}

export type Reply = <K extends ServerMessageType>(connection: Connection, type: K, payload: ServerPayloads[K], correlationId?: string) => void;

export class Replays {
  private readonly active = new Map<Connection, ReplayState>();
  /** Id of the last event the bus delivered live. */
  private position = '0-0';

  constructor(
    private readonly bus: Bus,
    private readonly rooms: RoomRegistry,
    private readonly maxEvents: number,
    private readonly reply: Reply,
  ) {}

  get size(): number {
    return this.active.size;
  }

  /** Whether a `resume` from this socket may start a replay now (not one already running). */
  canResume(connection: Connection): boolean {
    const state = this.active.get(connection);
    return state === undefined || state.holdTimer !== undefined;
  }

  /** Holds live events for a socket that announced `since` in its handshake, until its `resume`. */
  hold(connection: Connection, since: string): void {
    const state: ReplayState = { since, correlationId: undefined, rooms: new Set(connection.rooms), buffer: [] };
    this.rooms.leaveAll(connection);
    this.active.set(connection, state);
    state.holdTimer = setTimeout(() => void this.start(connection, since, undefined), RESUME_WAIT_MS).unref();
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
      state = { since, correlationId, rooms: new Set(connection.rooms), buffer: [] };
      this.rooms.leaveAll(connection);
      this.active.set(connection, state);
    }
    state.result = await this.bus.replay(since, this.maxEvents);
    if (this.active.get(connection) !== state) return; // closed meanwhile
    const last = state.result.ok ? state.result.events.at(-1)?.event.id : undefined;
    // The bus's own position, not only the last event observed here: a gateway that started after
    // the replayed events will never deliver them live, so waiting for them would hang the resume
    // until the next event is published.
    const live = this.livePosition();
    if (last !== undefined && compareEventIds(live, last) < 0) state.until = last;
    else this.finish(connection, state);
  }

  /** Called for every event the bus delivers live, after the live delivery. */
  observe(room: Room, event: RoomEvent): void {
    this.position = event.id ?? this.position;
    if (this.active.size === 0) return;
    for (const [connection, state] of this.active) {
      if (state.rooms.has(room)) state.buffer.push(event);
      if (state.until !== undefined && compareEventIds(this.position, state.until) >= 0) this.finish(connection, state);
    }
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

  private finish(connection: Connection, state: ReplayState): void {
    this.active.delete(connection);
    if (connection.released || connection.socket.readyState !== WebSocket.OPEN) return;
    for (const room of state.rooms) this.rooms.join(connection, room);
    const result = state.result;
    let through = state.since;
    if (result?.ok) {
      let replayed = 0;
      for (const { room, event } of result.events) {
        if (state.rooms.has(room)) {
          send(connection, event);
          replayed++;
        }
        through = event.id ?? through;
      }
      this.reply(connection, 'resumed', { since: state.since, replayed }, state.correlationId);
    } else {
      this.reply(connection, 'recovery:failed', { since: state.since, reason: result?.reason ?? 'unavailable' }, state.correlationId);
    }
    for (const event of state.buffer) {
      if (!result?.ok || compareEventIds(event.id ?? '0-0', through) > 0) send(connection, event);
    }
  }
}

function send(connection: Connection, event: RoomEvent): void {
  connection.socket.send(JSON.stringify(event));
}
