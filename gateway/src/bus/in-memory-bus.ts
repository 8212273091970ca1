/**
 * The embedded bus: one process, events delivered synchronously, recent events kept in memory
 * (bounded by count, bytes and age) for replay. Ids start at the process's start time, so a client
 * holding an id from a previous run is told it cannot recover rather than getting a wrong replay.
 *
 * Every event sits once in the log (oldest first, trimmed from its head) and is indexed by its
 * room, so that a resume reads only the client's rooms. Each room remembers the newest of its
 * events it dropped: a resume from before that mark would miss events, and is `too-old`.
 *
 * The log keeps each event as its JSON string, not as objects: thousands of retained events are
 * then thousands of leaf strings for the garbage collector rather than object graphs to trace,
 * which keeps major collections (and the pauses they put on every socket) short.
 */
import { compareEventIds, type PublishRequest, type Room, type RoomEvent } from '@payments-system/protocol';
import { toRoomEvent, type Bus, type EventSink, type PublishOptions, type ReplayResult, type Retention } from './bus.ts';
import { mergeById, msOf } from './event-order.ts';

interface LoggedEvent {
  readonly id: string;
  readonly room: Room;
  /** When it was published (ms), for the age bound. */
  readonly at: number;
  readonly json: string;
}

/** One room's events still in the log, oldest first, and the newest one it dropped. */
interface RoomHistory {
  readonly events: LoggedEvent[];
  /** Index of the oldest kept event (dropping moves it instead of shifting the array). */
  head: number;
  dropped: LoggedEvent | undefined;
}

const DROPPED: LoggedEvent = { id: '0-0', room: 'broadcast', at: 0, json: '' };

export class InMemoryBus implements Bus {
  private sink: EventSink | undefined;
  private readonly log: LoggedEvent[] = [];
  private readonly rooms = new Map<Room, RoomHistory>();
  /** Rooms whose every event was dropped before its age, oldest first: forgotten once the age has passed. */
  private readonly emptied: RoomHistory[] = [];
  /** Characters of JSON retained (the byte bound, approximately). */
  private retainedBytes = 0;
  /** Index of the oldest retained event in `log` (trimming moves it instead of shifting the array). */
  private head = 0;
  /** The first id this bus issued: anything before it belongs to another run. */
  private origin: string | undefined;
  private lastMs = 0;
  private sequence = 0;
  /** Idempotency keys seen within the retention age, oldest first: key → event id and when. */
  private readonly keys = new Map<string, { readonly id: string; readonly at: number }>();

  constructor(
    private readonly retention: Retention = { count: 10_000, roomCount: 1001, ageMs: 5 * 60_000 },
    private readonly now: () => number = Date.now,
  ) {}

  async start(sink: EventSink): Promise<void> {
    this.sink = sink;
  }

  async publish(request: PublishRequest, options: PublishOptions = {}): Promise<string> {
    const { idempotencyKey } = options;
    if (idempotencyKey !== undefined) {
      this.forgetOldKeys();
      const seen = this.keys.get(idempotencyKey);
      if (seen) return seen.id;
    }
    const id = this.nextId();
    this.origin ??= id;
    if (idempotencyKey !== undefined) this.keys.set(idempotencyKey, { id, at: this.now() });
    const at = this.now();
    const event = toRoomEvent(request, id, new Date(at).toISOString());
    const logged: LoggedEvent = { id, room: request.room, at, json: JSON.stringify(event) };
    this.log.push(logged);
    this.retainedBytes += logged.json.length;
    this.append(logged);
    this.trim();
    this.sink?.(request.room, event);
    return id;
  }

  async replay(since: string, rooms: Iterable<Room>, limit: number): Promise<ReplayResult> {
    this.trim();
    if (!this.issued(since)) return { ok: false, reason: 'too-old' };
    const found: LoggedEvent[][] = [];
    let total = 0;
    let trimmedPast = false;
    for (const room of new Set(rooms)) {
      const history = this.rooms.get(room);
      if (history === undefined) continue;
      if (history.dropped !== undefined && compareEventIds(history.dropped.id, since) > 0) trimmedPast = true;
      const from = firstAfter(history, since);
      total += history.events.length - from;
      if (total > limit) return { ok: false, reason: 'too-many' };
      if (from < history.events.length) found.push(history.events.slice(from));
    }
    if (trimmedPast) return { ok: false, reason: 'too-old' };
    return {
      ok: true,
      events: mergeById(found, (logged) => logged.id).map(({ room, json }) => ({ room, event: JSON.parse(json) as RoomEvent })),
    };
  }

  position(): string {
    // Delivery is synchronous: every id issued has been handed to the sink.
    return this.lastMs === 0 ? '0-0' : `${this.lastMs}-${this.sequence}`;
  }

  async close(): Promise<void> {
    this.sink = undefined;
  }

  /**
   * Whether `since` is a position of this run within the retention age: not before the first id,
   * not after the newest, and, while the log still holds that stretch, one of its ids.
   */
  private issued(since: string): boolean {
    if (this.origin === undefined) return false;
    // Nothing was published after it (a quiet client's position, however old): nothing to replay.
    if (since === this.position()) return true;
    if (msOf(since) < this.now() - this.retention.ageMs) return false;
    if (compareEventIds(since, this.origin) < 0 || compareEventIds(since, this.position()) > 0) return false;
    const oldest = this.log[this.head];
    return oldest === undefined || compareEventIds(since, oldest.id) < 0 || this.indexOf(since) >= 0;
  }

  /** `<ms>-<seq>` like Redis: monotonic even if the clock steps back. */
  private nextId(): string {
    const ms = Math.max(this.now(), this.lastMs);
    this.sequence = ms === this.lastMs ? this.sequence + 1 : 0;
    this.lastMs = ms;
    return `${ms}-${this.sequence}`;
  }

  private append(logged: LoggedEvent): void {
    let history = this.rooms.get(logged.room);
    if (history === undefined) this.rooms.set(logged.room, (history = { events: [], head: 0, dropped: undefined }));
    history.events.push(logged);
    if (history.events.length - history.head > this.retention.roomCount) dropOldest(history);
  }

  private forgetOldKeys(): void {
    const oldestAllowed = this.now() - this.retention.ageMs;
    for (const [key, { at }] of this.keys) {
      if (at >= oldestAllowed) break;
      this.keys.delete(key);
    }
  }

  private indexOf(id: string): number {
    let low = this.head;
    let high = this.log.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const order = compareEventIds((this.log[middle] as LoggedEvent).id, id);
      if (order === 0) return middle;
      if (order < 0) low = middle + 1;
      else high = middle - 1;
    }
    return -1;
  }

  private trim(): void {
    const oldestAllowed = this.now() - this.retention.ageMs;
    const maxBytes = this.retention.bytes ?? Infinity;
    while (
      this.head < this.log.length &&
      (this.log.length - this.head > this.retention.count ||
        this.retainedBytes > maxBytes ||
        (this.log[this.head] as LoggedEvent).at < oldestAllowed)
    ) {
      const oldest = this.log[this.head] as LoggedEvent;
      this.retainedBytes -= oldest.json.length;
      this.forget(oldest, oldest.at < oldestAllowed);
      // Drop the reference now; the slot itself goes at the next compaction.
      this.log[this.head] = DROPPED;
      this.head++;
    }
    // Compact once the dropped prefix dominates, so the arrays follow the retained size.
    if (this.head > 1024 && this.head * 2 > this.log.length) {
      this.log.splice(0, this.head);
      this.head = 0;
    }
    // A room emptied early keeps its mark until every event it dropped is past the age anyway.
    while (this.emptied.length > 0 && ((this.emptied[0] as RoomHistory).dropped as LoggedEvent).at < oldestAllowed) {
      const history = this.emptied.shift() as RoomHistory;
      const room = (history.dropped as LoggedEvent).room;
      if (this.rooms.get(room) === history && history.head === history.events.length) this.rooms.delete(room);
    }
  }

  /** Takes an event that leaves the log out of its room's history too (unless the room's own bound took it). */
  private forget(oldest: LoggedEvent, aged: boolean): void {
    const history = this.rooms.get(oldest.room);
    if (history === undefined || history.events[history.head] !== oldest) return;
    dropOldest(history);
    if (history.head < history.events.length) return;
    // Empty: an aged room is simply forgotten; one emptied by the count or byte bound keeps its mark.
    if (aged) this.rooms.delete(oldest.room);
    else this.emptied.push(history);
  }
}

function dropOldest(history: RoomHistory): void {
  history.dropped = history.events[history.head] as LoggedEvent;
  history.events[history.head] = DROPPED;
  history.head++;
  if (history.head > 64 && history.head * 2 > history.events.length) {
    history.events.splice(0, history.head);
    history.head = 0;
  }
}

/** Index of the first kept event of `history` after `since`. */
function firstAfter(history: RoomHistory, since: string): number {
  let low = history.head;
  let high = history.events.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareEventIds((history.events[middle] as LoggedEvent).id, since) <= 0) low = middle + 1;
    else high = middle;
  }
  return low;
}
