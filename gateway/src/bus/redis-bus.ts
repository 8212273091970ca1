/**
 * The Redis bus: one Redis Stream that every gateway appends to (XADD) and reads in full
 * (XREAD BLOCK), in the manner of Socket.IO's Redis Streams adapter. The stream gives every event
 * an id in one total order, keeps recent events for replay (XRANGE), and lets a gateway that lost
 * Redis for a while continue from the last id it read, so its sockets miss nothing.
 * See docs/architecture.md for why one stream, and its limits.
 */
import type { RedisClientType } from 'redis';
import { createRedisClient } from '../redis/client.ts';
import { compareEventIds, isRoom, type PublishRequest, type RoomEvent } from '@payments-system/protocol';
import type { Logger } from '../logger.ts';
import {
  BusUnavailable,
  toRoomEvent,
  type Bus,
  type EventSink,
  type PublishOptions,
  type ReplayResult,
  type Retention,
  type StoredEvent,
} from './bus.ts';

export interface RedisBusOptions {
  readonly url: string;
  readonly stream?: string;
  readonly retention: Retention;
  readonly logger: Logger;
  /** How long one blocking read waits before it is issued again. */
  readonly blockMs?: number;
}

interface StreamEntry {
  readonly id: string;
  readonly message: Record<string, string>;
}

const BATCH = 500;

/**
 * XADD unless the idempotency key was seen, atomically (one script). The key remembers the id
 * for the retention age: a retry within it gets the first id back and appends nothing.
 * KEYS: stream, key. ARGV: MAXLEN threshold, room, event body, key lifetime in ms.
 */
const IDEMPOTENT_XADD = `
local seen = redis.call('GET', KEYS[2])
if seen then return seen end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'room', ARGV[2], 'event', ARGV[3])
redis.call('SET', KEYS[2], id, 'PX', ARGV[4])
return id
`;

export class RedisBus implements Bus {
  private readonly stream: string;
  private readonly writer: RedisClientType;
  private readonly reader: RedisClientType;
  private lastId = '0-0';
  private running = false;
  private reading: Promise<void> | undefined;
  private trimTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: RedisBusOptions) {
    this.stream = options.stream ?? 'realtime:events';
    // Publishing fails fast while Redis is away (the API answers 503 and the publisher retries)
    // rather than queueing events in this process where a crash would lose them.
    this.writer = createRedisClient(options.url, { failFast: true });
    this.reader = createRedisClient(options.url, { failFast: false });
    for (const [name, client] of [['writer', this.writer], ['reader', this.reader]] as const) {
      client.on('error', (error: Error) => options.logger.warn({ client: name, err: error.message }, 'redis error'));
      client.on('ready', () => options.logger.info({ client: name }, 'redis ready'));
    }
  }

  async start(sink: EventSink): Promise<void> {
    await Promise.all([this.writer.connect(), this.reader.connect()]);
    // Deliver what is published from now on; what came before belongs to replay.
    const info = await this.writer.xInfoStream(this.stream).catch(() => undefined);
    this.lastId = (info?.['last-generated-id'] as string | undefined) ?? '0-0';
    this.running = true;
    this.reading = this.readLoop(sink);
    this.trimTimer = setInterval(() => void this.trimByAge(), Math.min(this.options.retention.ageMs, 60_000)).unref();
  }

  async publish(request: PublishRequest, options: PublishOptions = {}): Promise<string> {
    const { room, ...rest } = request;
    const body = JSON.stringify({ ...rest, timestamp: new Date().toISOString() });
    try {
      if (options.idempotencyKey !== undefined) {
        const { count, ageMs } = this.options.retention;
        return String(
          await this.writer.eval(IDEMPOTENT_XADD, {
            keys: [this.stream, `${this.stream}:idempotency:${options.idempotencyKey}`],
            arguments: [String(count), room, body, String(ageMs)],
          }),
        );
      }
      return await this.writer.xAdd(
        this.stream,
        '*',
        { room, event: body },
        { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: this.options.retention.count } },
      );
    } catch (error) {
      throw new BusUnavailable(`redis unavailable: ${(error as Error).message}`);
    }
  }

  async replay(since: string, limit: number): Promise<ReplayResult> {
    const { count, ageMs } = this.options.retention;
    // Trimming with `~` is approximate (Redis drops whole stream nodes, ~100 entries each, and the
    // age trim runs on a timer), so the stream may still hold events past the retention. Replay
    // applies the retention exactly, as the in-memory bus does: the outcome of a resume does not
    // depend on when Redis last trimmed. The age is read from the id (Redis's clock) against ours.
    if (Number(since.slice(0, since.indexOf('-'))) < Date.now() - ageMs) return { ok: false, reason: 'too-old' };
    try {
      // The stream is trimmed from its head only: if `since` is still there, so is all that follows.
      const anchor = (await this.writer.xRange(this.stream, since, since)) as StreamEntry[] | null;
      if (!anchor || anchor.length === 0) return { ok: false, reason: 'too-old' };
      // `since` is among the newest `count` events when at most count - 1 follow it.
      const entries = ((await this.writer.xRange(this.stream, `(${since}`, '+', { COUNT: Math.min(limit, count - 1) + 1 })) ??
        []) as StreamEntry[];
      if (entries.length > count - 1) return { ok: false, reason: 'too-old' };
      if (entries.length > limit) return { ok: false, reason: 'too-many' };
      return { ok: true, events: entries.flatMap((entry) => this.decode(entry) ?? []) };
    } catch (error) {
      this.options.logger.warn({ err: (error as Error).message }, 'replay failed');
      return { ok: false, reason: 'unavailable' };
    }
  }

  position(): string {
    return this.lastId;
  }

  async close(): Promise<void> {
    this.running = false;
    clearInterval(this.trimTimer);
    // Closing the reader ends its blocking read; the loop then sees `running` is false.
    this.reader.destroy();
    await this.reading?.catch(() => undefined);
    this.writer.destroy();
  }

  private async readLoop(sink: EventSink): Promise<void> {
    while (this.running) {
      try {
        const reply = (await this.reader.xRead({ key: this.stream, id: this.lastId }, { BLOCK: this.options.blockMs ?? 5000, COUNT: BATCH })) as
          | Array<{ messages: StreamEntry[] }>
          | null;
        for (const entry of reply?.[0]?.messages ?? []) {
          // Never deliver an id twice or out of order, whatever the read returns after a reconnect.
          if (compareEventIds(entry.id, this.lastId) <= 0) continue;
          this.lastId = entry.id;
          const stored = this.decode(entry);
          if (stored) sink(stored.room, stored.event);
        }
      } catch (error) {
        if (!this.running) return;
        this.options.logger.warn({ err: (error as Error).message, lastId: this.lastId }, 'redis read failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }

  private decode(entry: StreamEntry): StoredEvent | undefined {
    const room = entry.message['room'];
    const body = entry.message['event'];
    if (!isRoom(room) || body === undefined) return undefined;
    try {
      const { correlationId, timestamp, ...request } = JSON.parse(body) as PublishRequest & { timestamp: string };
      return { room, event: toRoomEvent({ ...request, room, ...(correlationId && { correlationId }) } as PublishRequest, entry.id, timestamp) as RoomEvent };
    } catch {
      this.options.logger.warn({ id: entry.id }, 'undecodable stream entry skipped');
      return undefined;
    }
  }

  private async trimByAge(): Promise<void> {
    const minId = `${Date.now() - this.options.retention.ageMs}-0`;
    await this.writer.xTrim(this.stream, 'MINID', minId, { strategyModifier: '~' }).catch(() => undefined);
  }
}
