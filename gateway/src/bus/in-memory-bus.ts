/**
 * The embedded bus: one process, events delivered synchronously, recent events kept in memory
 * (bounded by count and age) for replay. Ids start at the process's start time, so a client
 * holding an id from a previous run is told it cannot recover rather than getting a wrong replay.
 *
 * The log keeps each event as its JSON string, not as objects: thousands of retained events are
 * then thousands of leaf strings for the garbage collector rather than object graphs to trace,
 * which keeps major collections (and the pauses they put on every socket) short.
 */
import { compareEventIds, type PublishRequest, type Room, type RoomEvent } from '@payments-system/protocol';
import { toRoomEvent, type Bus, type EventSink, type PublishOptions, type ReplayResult, type Retention } from './bus.ts';

interface LoggedEvent {
  readonly id: string;
  readonly room: Room;
  /** When it was published (ms), for the age bound. */
  readonly at: number;
  readonly json: string;
}

const DROPPED: LoggedEvent = { id: '0-0', room: 'broadcast', at: 0, json: '' };

export class InMemoryBus implements Bus {
  private sink: EventSink | undefined;
  private readonly log: LoggedEvent[] = [];
  /** Characters of JSON retained (the byte bound, approximately). */
  private retainedBytes = 0;
  /** Index of the oldest retained event in `log` (trimming moves it instead of shifting the array). */
  private head = 0;
  private lastMs = 0;
  private sequence = 0;
  /** Idempotency keys seen within the retention age, oldest first: key → event id and when. */
  private readonly keys = new Map<string, { readonly id: string; readonly at: number }>();

  constructor(
    private readonly retention: Retention = { count: 10_000, ageMs: 5 * 60_000 },
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
    if (idempotencyKey !== undefined) this.keys.set(idempotencyKey, { id, at: this.now() });
    const at = this.now();
    const event = toRoomEvent(request, id, new Date(at).toISOString());
    const logged: LoggedEvent = { id, room: request.room, at, json: JSON.stringify(event) };
    this.log.push(logged);
    this.retainedBytes += logged.json.length;
    this.trim();
    this.sink?.(request.room, event);
    return id;
  }

  async replay(since: string, limit: number): Promise<ReplayResult> {
    this.trim();
    const index = this.indexOf(since);
    if (index < 0) return { ok: false, reason: 'too-old' };
    const missed = this.log.length - index - 1;
    if (missed > limit) return { ok: false, reason: 'too-many' };
    return {
      ok: true,
      events: this.log.slice(index + 1).map(({ room, json }) => ({ room, event: JSON.parse(json) as RoomEvent })),
    };
  }

  position(): string {
    // Delivery is synchronous: every id issued has been handed to the sink.
    return this.lastMs === 0 ? '0-0' : `${this.lastMs}-${this.sequence}`;
  }

  async close(): Promise<void> {
    this.sink = undefined;
  }

  /** `<ms>-<seq>` like Redis: monotonic even if the clock steps back. */
  private nextId(): string {
    const ms = Math.max(this.now(), this.lastMs);
    this.sequence = ms === this.lastMs ? this.sequence + 1 : 0;
    this.lastMs = ms;
    return `${ms}-${this.sequence}`;
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
      this.retainedBytes -= (this.log[this.head] as LoggedEvent).json.length;
      // Drop the reference now; the slot itself goes at the next compaction.
      this.log[this.head] = DROPPED;
      this.head++;
    }
    // Compact once the dropped prefix dominates, so the arrays follow the retained size.
    if (this.head > 1024 && this.head * 2 > this.log.length) {
      this.log.splice(0, this.head);
      this.head = 0;
    }
  }
}
