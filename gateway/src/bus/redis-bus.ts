/**
 * The Redis bus: one Redis Stream that every gateway appends to (XADD) and reads in full
 * (XREAD BLOCK), in the manner of Socket.IO's Redis Streams adapter. The stream gives every event
 * an id in one total order, keeps recent events for replay (XRANGE), and lets a gateway that lost
 * Redis for a while continue from the last id it read, so its sockets miss nothing.
 * See docs/architecture.md for why one stream, and its limits.
 */
import { NotReplicated, RedisConnection, type ConnectionEvents, type RedisSettings } from '../redis/connection.ts';
import { compareEventIds, isRoom, type PublishRequest, type Room, type RoomEvent } from '@payments-system/protocol';
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
import { mergeById, msOf } from './event-order.ts';

export interface RedisBusOptions {
  readonly redis: RedisSettings;
  /** What the writer connection reports (errors are logged here in any case). */
  readonly events?: ConnectionEvents;
  readonly stream?: string;
  readonly retention: Retention;
  readonly logger: Logger;
  /** How long one blocking read waits before it is issued again. */
  readonly blockMs?: number;
}

/** XREAD's reply without node-redis's transformation: `[[stream, [[id, [field, value, …]], …]]]` or null. */
type RawRead = Array<[stream: string, entries: Array<[id: string, fields: string[]]>]> | null;

const BATCH = 500;
/** Connections that publish (and replay) side by side: each WAIT for the replicas holds one. */
const WRITERS = 8;

/** Event ids compared in Lua as digit strings (a client's `since` may exceed a double's precision). */
const COMPARE_IDS = `
local function compareDigits(a, b)
  a = (string.gsub(a, '^0+', ''))
  b = (string.gsub(b, '^0+', ''))
  if #a ~= #b then return #a < #b and -1 or 1 end
  if a == b then return 0 end
  return a < b and -1 or 1
end
local function compareIds(a, b)
  local da, db = string.find(a, '-', 1, true), string.find(b, '-', 1, true)
  local order = compareDigits(string.sub(a, 1, da - 1), string.sub(b, 1, db - 1))
  if order ~= 0 then return order end
  return compareDigits(string.sub(a, da + 1), string.sub(b, db + 1))
end
local function idOf(item)
  local space = string.find(item, ' ', 1, true)
  return space and string.sub(item, 1, space - 1) or item, space ~= nil
end
`;

/**
 * Appends one event, atomically: to the shared stream (which issues its id and feeds every
 * gateway's reader) and, under the same id, to its room's history (what a resume reads). Skipped
 * when the idempotency key was seen: the key remembers the first id for the retention age.
 *
 * A room's history is a list of '<id> <event>', oldest first, of at most ARGV[2] events. Once it
 * has dropped one, its head is '<id>' alone: the newest event it dropped, before which it cannot
 * replay. (A list costs ~300 bytes a room; a stream per room, ~4 KB: Redis preallocates its node.)
 * KEYS: stream, room history, origin, [idempotency key].
 * ARGV: stream MAXLEN (approximate), events a room keeps, room, event body, retention age in ms.
 */
const APPEND = `${COMPARE_IDS}
if KEYS[4] then
  local seen = redis.call('GET', KEYS[4])
  if seen then
    -- A write all the same: a WAIT after this script then covers the first append too.
    redis.call('PEXPIRE', KEYS[4], ARGV[5])
    return seen
  end
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'room', ARGV[3], 'event', ARGV[4])
local newest = redis.call('LINDEX', KEYS[2], -1)
if newest and compareIds(idOf(newest), id) >= 0 then
  -- The room's history runs ahead of the stream (the stream was lost or reset without it): start
  -- it again, and make every earlier position too-old.
  redis.call('DEL', KEYS[2])
  redis.call('SET', KEYS[3], id)
end
local length = redis.call('RPUSH', KEYS[2], id .. ' ' .. ARGV[4])
local keep = tonumber(ARGV[2])
if length > keep then
  local head, isEvent = idOf(redis.call('LINDEX', KEYS[2], 0))
  local events = isEvent and length or length - 1
  if events > keep then
    if not isEvent then redis.call('LPOP', KEYS[2]) end
    local dropped
    for _ = 1, events - keep do dropped = redis.call('LPOP', KEYS[2]) end
    redis.call('LPUSH', KEYS[2], (idOf(dropped)))
  end
end
-- An idle room is forgotten once its newest event is past the age (a second later, for the clock's edge).
redis.call('PEXPIRE', KEYS[2], ARGV[5] + 1000)
redis.call('SET', KEYS[3], id, 'NX')
if KEYS[4] then redis.call('SET', KEYS[4], id, 'PX', ARGV[5]) end
return id
`;

/**
 * What a resume needs, read in one step on Redis's clock: the time, the stream's first id ever
 * (origin), newest and oldest kept ids, whether `since` is one of its ids, and per room the newest
 * event it dropped ('0-0' if none) and up to ARGV[2] of its events after `since`, read from the
 * newest back. KEYS: stream, origin, room histories. ARGV: since, entries to read per room.
 */
const READ_ROOMS = `#!lua flags=no-writes
${COMPARE_IDS}
local function field(info, name)
  for i = 1, #info, 2 do if info[i] == name then return info[i + 1] end end
end
local since, most = ARGV[1], tonumber(ARGV[2])
local time = redis.call('TIME')
local reply = { tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000), redis.call('GET', KEYS[2]), false, false, 0, {} }
if redis.call('EXISTS', KEYS[1]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  reply[3] = field(info, 'last-generated-id')
  local first = field(info, 'first-entry')
  if first then reply[4] = first[1] end
  reply[5] = #redis.call('XRANGE', KEYS[1], since, since)
end
for i = 3, #KEYS do
  local mark, found = '0-0', {}
  local stop = redis.call('LLEN', KEYS[i])
  while stop > 0 do
    local from = math.max(0, stop - 64)
    local items = redis.call('LRANGE', KEYS[i], from, stop - 1)
    stop = from
    for j = #items, 1, -1 do
      local id, isEvent = idOf(items[j])
      if not isEvent then mark = id; stop = 0; break end
      if compareIds(id, since) <= 0 or #found == most then stop = 0; break end
      found[#found + 1] = items[j]
    end
  end
  local ascending = {}
  for j = #found, 1, -1 do ascending[#ascending + 1] = found[j] end
  reply[6][i - 2] = { mark, ascending }
end
return reply
`;

type ReadRoomsReply = [
  nowMs: number,
  origin: string | null,
  lastId: string | null,
  firstId: string | null,
  sinceKept: number,
  /** Per room: the newest event it dropped, and '<id> <event>' of its events after `since`, oldest first. */
  rooms: Array<[dropped: string, entries: string[]]>,
];

export class RedisBus implements Bus {
  private readonly stream: string;
  /** The stream's first id ever: positions before it belong to a stream that was lost. */
  private readonly originKey: string;
  private readonly writer: RedisConnection;
  private readonly reader: RedisConnection;
  /** The last id delivered: every event up to it was read, and acknowledged by the replicas asked for. */
  private lastId = '0-0';
  private running = false;
  private reading: Promise<void> | undefined;
  private trimTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: RedisBusOptions) {
    this.stream = options.stream ?? 'realtime:events';
    this.originKey = `${this.stream}:origin`;
    const { logger, events = {} } = options;
    const logged = (client: string, also: ConnectionEvents): ConnectionEvents => ({
      ...also,
      error: (error) => {
        logger.warn({ client, err: error.message }, 'redis error');
        also.error?.(error);
      },
      ready: () => logger.info({ client }, 'redis ready'),
      primaryChanged: (address) => {
        logger.warn({ client, primary: address }, 'redis primary changed');
        also.primaryChanged?.(address);
      },
    });
    // Publishing fails fast while Redis is away (the API answers 503 and the publisher retries)
    // rather than queueing events in this process where a crash would lose them.
    this.writer = new RedisConnection(options.redis, { name: 'bus-writer', failFast: true, poolSize: WRITERS }, logged('writer', events));
    this.reader = new RedisConnection(options.redis, { name: 'bus-reader', failFast: false }, logged('reader', { notReplicated: events.notReplicated }));
  }

  async start(sink: EventSink): Promise<void> {
    await Promise.all([this.writer.connect(), this.reader.connect()]);
    // Deliver what is published from now on; what came before belongs to replay. The starting
    // point is acknowledged like any read: a failover cannot take it back and leave new events below it.
    for (;;) {
      try {
        const [newest] = (await this.reader.read([['XREVRANGE', this.stream, '+', '-', 'COUNT', '1']])) as [Array<[string, string[]]>];
        this.lastId = newest[0]?.[0] ?? '0-0';
        break;
      } catch (error) {
        this.options.logger.warn({ err: (error as Error).message }, 'redis not ready to start the bus; retrying');
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    this.running = true;
    this.reading = this.readLoop(sink);
    this.trimTimer = setInterval(() => void this.trimByAge(), Math.min(this.options.retention.ageMs, 60_000)).unref();
  }

  /** Where the bus writes now (`host:port`), for metrics. */
  get primary(): string | undefined {
    return this.writer.primary;
  }

  async publish(request: PublishRequest, options: PublishOptions = {}): Promise<string> {
    const { room, ...rest } = request;
    const body = JSON.stringify({ ...rest, timestamp: new Date().toISOString() });
    const { count, roomCount, ageMs } = this.options.retention;
    const keys = [this.stream, this.roomKey(room), this.originKey];
    if (options.idempotencyKey !== undefined) keys.push(`${this.stream}:idempotency:${options.idempotencyKey}`);
    try {
      return String(await this.writer.write(APPEND, keys, [String(count), String(roomCount), room, body, String(ageMs)]));
    } catch (error) {
      if (error instanceof NotReplicated) throw new BusUnavailable(`event not acknowledged by the replicas: ${error.message}`, 'not-replicated');
      throw new BusUnavailable(`redis unavailable: ${(error as Error).message}`);
    }
  }

  async replay(since: string, rooms: Iterable<Room>, limit: number): Promise<ReplayResult> {
    const wanted = [...new Set(rooms)];
    let reply: ReadRoomsReply;
    try {
      // Acknowledged by the replicas before use, like the live reader's reads: what is replayed survives a failover.
      reply = (await this.writer.readScript(READ_ROOMS, [this.stream, this.originKey, ...wanted.map((room) => this.roomKey(room))], [
        since,
        String(limit + 1),
      ])) as ReadRoomsReply;
    } catch (error) {
      this.options.logger.warn({ err: (error as Error).message }, 'replay failed');
      return { ok: false, reason: 'unavailable' };
    }
    const [nowMs, origin, lastId, firstId, sinceKept, histories] = reply;
    // Nothing was published after it (a quiet client's position, however old): nothing to replay.
    if (origin !== null && since === lastId) return { ok: true, events: [] };
    // The age is read from the id against Redis's own clock, which also issued the id.
    if (msOf(since) < nowMs - this.options.retention.ageMs) return { ok: false, reason: 'too-old' };
    // Issued by this stream: not before its first id ever, not after its newest, and one of its
    // ids while the stream still holds that stretch (it is trimmed from its head only).
    if (origin === null || lastId === null || compareEventIds(since, origin) < 0 || compareEventIds(since, lastId) > 0) {
      return { ok: false, reason: 'too-old' };
    }
    if (firstId !== null && compareEventIds(since, firstId) >= 0 && sinceKept === 0) return { ok: false, reason: 'too-old' };
    let total = 0;
    for (const [, entries] of histories) {
      total += entries.length;
      if (total > limit) return { ok: false, reason: 'too-many' };
    }
    // A room that dropped an event after `since` (its bound, or another gateway's smaller one) cannot replay it.
    if (histories.some(([dropped]) => compareEventIds(dropped, since) > 0)) return { ok: false, reason: 'too-old' };
    const decoded = histories.map(([, entries], index) =>
      entries.flatMap((entry) => {
        const space = entry.indexOf(' ');
        return this.decode(entry.slice(0, space), wanted[index] as Room, entry.slice(space + 1)) ?? [];
      }),
    );
    return { ok: true, events: mergeById(decoded, (stored) => stored.event.id as string) };
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
        const command = ['XREAD', 'BLOCK', String(this.options.blockMs ?? 5000), 'COUNT', String(BATCH), 'STREAMS', this.stream, this.lastId];
        const [reply] = (await this.reader.read([command])) as [RawRead];
        for (const [id, fields] of reply?.[0]?.[1] ?? []) {
          // Never deliver an id twice or out of order, whatever the read returns after a reconnect.
          if (compareEventIds(id, this.lastId) <= 0) continue;
          this.lastId = id;
          const stored = this.decode(id, fieldOf(fields, 'room'), fieldOf(fields, 'event'));
          if (stored) sink(stored.room, stored.event);
        }
      } catch (error) {
        if (!this.running) return;
        // Nothing of an unacknowledged read was delivered: the next read starts from the last delivered id again.
        this.options.logger.warn({ err: (error as Error).message, lastId: this.lastId }, 'redis read failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }

  private decode(id: string, room: string | undefined, body: string | undefined): StoredEvent | undefined {
    try {
      if (!isRoom(room) || body === undefined) throw new Error('no room or event');
      const { correlationId, timestamp, ...request } = JSON.parse(body) as PublishRequest & { timestamp: string };
      return { room, event: toRoomEvent({ ...request, room, ...(correlationId && { correlationId }) } as PublishRequest, id, timestamp) as RoomEvent };
    } catch {
      this.options.logger.warn({ id }, 'undecodable stream entry skipped');
      return undefined;
    }
  }

  private roomKey(room: Room): string {
    return `${this.stream}:room:${room}`;
  }

  private async trimByAge(): Promise<void> {
    const minId = `${Date.now() - this.options.retention.ageMs}-0`;
    await this.writer.commands.xTrim(this.stream, 'MINID', minId, { strategyModifier: '~' }).catch(() => undefined);
  }
}

function fieldOf(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
