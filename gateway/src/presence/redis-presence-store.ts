/**
 * Presence across gateways (`REDIS_URL` or `REDIS_SENTINELS`): each gateway keeps its own members in one Redis hash (room
 * → its users there) and heartbeats; the changes (a user's first socket in a room on any gateway,
 * their last one out of it on every gateway) go out on Redis Pub/Sub, which is what they are:
 * ephemeral. They never enter the bus's stream and are never replayed.
 *
 * - Writes are batched: a turn of the event loop's changes go out as one script call, each room
 *   with this gateway's whole list of its members, so a write can be repeated after a failure (the
 *   rooms stay dirty until one succeeds, and every heartbeat retries).
 * - A gateway that stops heartbeating (killed, partitioned) is dead after `deadAfterMs`
 *   (HEARTBEAT_INTERVAL_MS + HEARTBEAT_TIMEOUT_MS, how long a silent socket lives too): the first
 *   survivor to notice removes it and publishes `left` for its users, within one heartbeat period
 *   (at most 4 s) more. If every gateway dies, the keys expire by themselves.
 * - A gateway that finds itself removed (it was cut off from Redis for that long) writes all its
 *   rooms again, and its users join again.
 * - When the subscription was interrupted, changes may have been missed: once a write succeeds
 *   again, the listener's `lost()` sends every watcher the members again.
 */
import { isPresenceRoom, isRole, ID_PATTERN, type PresenceMember, type PresenceRoom, type Role } from '@payments-system/protocol';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.ts';
import type { GatewayMetrics } from '../metrics.ts';
import { RedisConnection, RedisSubscriber, type ConnectionEvents, type RedisSettings } from '../redis/connection.ts';
import type { LocalMember, LocalMembers, PresenceChange, PresenceListener, PresenceStore } from './presence-store.ts';
import { LEAVE_SCRIPT, MEMBERS_SCRIPT, SYNC_SCRIPT } from './redis-presence-scripts.ts';

export interface RedisPresenceOptions {
  readonly redis: RedisSettings;
  /** What the gateway's Redis connections report (metrics); presence adds its own handling. */
  readonly events?: ConnectionEvents;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** A gateway without a heartbeat for this long is dead and its members leave. */
  readonly deadAfterMs: number;
  /** How often this gateway heartbeats and looks for dead ones; default deadAfterMs / 4, within [100 ms, 4 s]. */
  readonly heartbeatMs?: number;
  readonly prefix?: string;
}

/** Rooms written per script call: a gateway that writes all its rooms again does it in slices. */
const ROOMS_PER_WRITE = 500;

/**
 * The Redis connections of presence, made by the gateway's one factory so that they follow a
 * Sentinel failover: one for commands (failing fast while Redis is away: a members list answers
 * SERVICE_UNAVAILABLE, a write stays dirty and is retried) and one subscribed to the changes.
 * Presence is ephemeral and rebuilt by every heartbeat, so its writes do not wait for replicas.
 */
function presenceClients(
  redis: RedisSettings,
  events: { readonly commands: ConnectionEvents; readonly subscriber: ConnectionEvents },
): { commands: RedisConnection; subscriber: RedisSubscriber } {
  const settings = { ...redis, minReplicasAck: 0 };
  return {
    commands: new RedisConnection(settings, { name: 'presence', failFast: true }, events.commands),
    subscriber: new RedisSubscriber(settings, events.subscriber),
  };
}

/** The default heartbeat for a deadline: four beats before a silent gateway is declared dead. */
export function presenceHeartbeatMs(deadAfterMs: number): number {
  return Math.min(4000, Math.max(100, Math.floor(deadAfterMs / 4)));
}

export class RedisPresenceStore implements PresenceStore {
  /** This process's id in Redis: a restarted gateway is a new one (its old self is found dead). */
  readonly gatewayId = randomUUID();
  private readonly commands: RedisConnection;
  private readonly subscriber: RedisSubscriber;
  private readonly prefix: string;
  private readonly channel: string;
  private readonly gatewaysKey: string;
  private readonly heartbeatMs: number;
  private readonly ttlMs: number;
  private listener: PresenceListener | undefined;
  private local: LocalMembers | undefined;
  /** Rooms whose members here changed since they were last written. */
  private readonly dirty = new Set<PresenceRoom>();
  /** The next write starts afresh (first start, or this gateway was found dead). */
  private reset = true;
  private writing: Promise<void> | undefined;
  private writeQueued = false;
  private timer: NodeJS.Timeout | undefined;
  private subscribedOnce = false;
  /** The subscription came back after a drop: tell the listener once a write shows Redis answers again. */
  private missedChanges = false;
  private closed = false;

  constructor(private readonly options: RedisPresenceOptions) {
    const warn = (client: string) => (error: Error) => options.logger.warn({ client, err: error.message }, 'redis error');
    ({ commands: this.commands, subscriber: this.subscriber } = presenceClients(options.redis, {
      commands: {
        ...options.events,
        error: warn('presence'),
        primaryChanged: (address) => {
          options.events?.primaryChanged?.(address);
          // A promoted replica may lack this gateway's latest writes, and changes published meanwhile are gone.
          this.rewriteAll();
        },
      },
      subscriber: {
        error: warn('presence-subscriber'),
        ready: () => {
          // After the first: the subscription was down for a while, and changes published meanwhile are gone.
          if (!this.subscribedOnce || this.closed) return;
          this.missedChanges = true;
          this.heartbeat();
        },
      },
    }));
    this.prefix = options.prefix ?? 'presence:';
    this.channel = `${this.prefix}changes`;
    this.gatewaysKey = `${this.prefix}gateways`;
    this.heartbeatMs = options.heartbeatMs ?? presenceHeartbeatMs(options.deadAfterMs);
    // Long enough for a survivor to read a dead gateway's members before they expire.
    this.ttlMs = options.deadAfterMs + 10_000;
  }

  async start(listener: PresenceListener, local: LocalMembers): Promise<void> {
    this.listener = listener;
    this.local = local;
    await Promise.all([this.commands.connect(), this.subscriber.connect()]);
    await this.subscriber.subscribe(this.channel, (message) => this.receive(message));
    this.subscribedOnce = true;
    for (const room of local.rooms()) this.dirty.add(room);
    await this.write();
    this.timer = setInterval(() => this.heartbeat(), this.heartbeatMs).unref();
  }

  changed(room: PresenceRoom): void {
    this.dirty.add(room);
    if (this.writing) this.writeQueued = true;
    else if (!this.writeQueued) {
      this.writeQueued = true;
      setImmediate(() => this.heartbeat());
    }
  }

  async members(room: PresenceRoom): Promise<readonly PresenceMember[]> {
    const lists = (await this.commands.readScript(MEMBERS_SCRIPT, [this.gatewaysKey], [this.prefix, this.channel, room])) as string[];
    const merged = new Map<string, { userId: string; role: Role; connections: number }>();
    for (const list of lists) {
      for (const member of decodeMembers(list)) {
        const known = merged.get(member.userId);
        if (known) known.connections += member.connections;
        else merged.set(member.userId, { ...member });
      }
    }
    return [...merged.values()];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.writing?.catch(() => undefined);
    try {
      await this.commands.write(LEAVE_SCRIPT, [this.gatewaysKey], [this.prefix, this.channel, this.gatewayId]);
    } catch (error) {
      // The survivors find it dead instead, or its keys expire.
      this.options.logger.warn({ err: (error as Error).message }, 'presence: could not leave; the other gateways will find this one dead');
    }
    this.subscriber.destroy();
    this.commands.destroy();
  }

  /** Writes every room of this gateway afresh and tells the watchers to read the lists again (a new primary). */
  private rewriteAll(): void {
    if (this.closed || this.listener === undefined) return; // before start(): start() writes everything
    this.reset = true;
    for (const room of this.local?.rooms() ?? []) this.dirty.add(room);
    this.missedChanges = true;
    this.heartbeat();
  }

  /** A timer's beat, or a turn's changes: one write at a time; changes made during it follow it. */
  private heartbeat(): void {
    this.writeQueued = false;
    if (this.writing || this.closed) {
      if (!this.closed) this.writeQueued = true;
      return;
    }
    this.writing = this.write().finally(() => {
      this.writing = undefined;
      if (this.writeQueued && !this.closed) this.heartbeat();
    });
  }

  /** Writes the dirty rooms (at least a heartbeat), a slice at a time. Never throws. */
  private async write(): Promise<void> {
    for (;;) {
      const rooms = [...take(this.dirty, ROOMS_PER_WRITE)];
      const mode = this.reset ? 'reset' : 'delta';
      const pairs = rooms.flatMap((room) => [room, encodeMembers(this.local?.list(room) ?? [])]);
      let answer: [number, number];
      try {
        answer = (await this.commands.write(SYNC_SCRIPT, [this.gatewaysKey], [
          this.prefix,
          this.channel,
          this.gatewayId,
          String(this.options.deadAfterMs),
          String(this.ttlMs),
          mode,
          ...pairs,
        ])) as [number, number];
      } catch (error) {
        for (const room of rooms) this.dirty.add(room);
        this.options.metrics.presenceSyncFailures.inc();
        this.options.logger.warn({ err: (error as Error).message, rooms: rooms.length }, 'presence: write to redis failed; retrying on the next heartbeat');
        return;
      }
      const [registered, removed] = answer;
      if (removed > 0) {
        this.options.metrics.presenceGatewaysReaped.inc(removed);
        this.options.logger.warn({ gateways: removed }, 'presence: removed gateways that stopped heartbeating');
      }
      if (registered === 0) {
        // Found dead while cut off: its members left everywhere. Write them all again, afresh.
        this.options.logger.warn({ gatewayId: this.gatewayId }, 'presence: this gateway was found dead; writing its members again');
        this.reset = true;
        for (const room of this.local?.rooms() ?? []) this.dirty.add(room);
        continue;
      }
      this.reset = false;
      if (this.missedChanges && this.dirty.size === 0) {
        // After this gateway's own members are back in Redis, so that the lists read now show them.
        this.missedChanges = false;
        this.listener?.lost();
      }
      if (this.dirty.size === 0 || this.closed) return;
    }
  }

  /** A change from any gateway (this one too). Total: anything malformed is logged and dropped. */
  private receive(message: string): void {
    const change = decodeChange(message);
    if (change === undefined) {
      this.options.logger.warn({ message: message.slice(0, 200) }, 'presence: undecodable change dropped');
      return;
    }
    this.listener?.change(change);
  }
}

function* take<T>(set: Set<T>, count: number): Generator<T> {
  for (const value of set) {
    if (count-- <= 0) return;
    set.delete(value);
    yield value;
  }
}

/** One `userId role count` line per member (ids never hold a space or a newline). */
export function encodeMembers(members: readonly LocalMember[]): string {
  return members.map(({ userId, role, connections }) => `${userId} ${role} ${connections}`).join('\n');
}

export function decodeMembers(list: string): PresenceMember[] {
  const members: PresenceMember[] = [];
  for (const line of list.split('\n')) {
    const [userId, role, count] = line.split(' ');
    const connections = Number(count);
    if (userId !== undefined && ID_PATTERN.test(userId) && isRole(role) && Number.isSafeInteger(connections) && connections > 0) {
      members.push({ userId, role, connections });
    }
  }
  return members;
}

export function decodeChange(message: string): PresenceChange | undefined {
  const [change, room, userId, role, ...rest] = message.split(' ');
  if (rest.length > 0 || !isPresenceRoom(room) || userId === undefined || !ID_PATTERN.test(userId)) return undefined;
  if (change === 'joined' && isRole(role)) return { change, room, userId, role };
  if (change === 'left' && role === undefined) return { change, room, userId };
  return undefined;
}
