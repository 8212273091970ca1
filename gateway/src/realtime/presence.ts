/**
 * The hub's side of presence: it counts this gateway's sockets in the presence rooms (`user:` and
 * `payment:`) as they enter and leave them, answers `presence` requests with the members on every
 * gateway (the store's), and sends the changes to the sockets that watch a room.
 *
 * Membership is the room membership a client knows: the rooms a socket was put in or subscribed
 * to, also while a replay holds it out of the room registry. A resume therefore changes nobody's
 * presence, and the broadcast loop has nothing to do with any of it: presence costs the hot path
 * nothing per event or per recipient, only a count per join, leave and close.
 *
 * Order for a watcher: a change that arrives while a members list is being read for it is held and
 * sent after the list, so that a client which takes the list as the whole truth and applies the
 * changes on top never loses one (a change the list already shows is applied twice, harmlessly).
 *
 * A socket its client closed with `HandOver` (its tab handed one socket per browser to another tab)
 * stays in its rooms for {@link HAND_OVER_GRACE_MS}: the next tab's socket enters them meanwhile, so
 * watchers see neither a leave nor a join.
 */
import { isPresenceRoom, type PresenceMember, type PresenceRoom, type Room } from '@payments-system/protocol';
import type { Logger } from '../logger.ts';
import type { GatewayMetrics } from '../metrics.ts';
import { LocalPresence } from '../presence/local-presence.ts';
import type { PresenceChange, PresenceStore } from '../presence/presence-store.ts';
import type { Connection, PresenceWatch } from './connection.ts';
import { textFrame } from './frame.ts';
import { serverMessage } from './messages.ts';
import type { Outbound } from './outbound.ts';
import { reply, type ReplyContext } from './reply.ts';

/** How long a members list may take before the request is answered SERVICE_UNAVAILABLE. */
export const MEMBERS_TIMEOUT_MS = 2000;
/** How long a socket closed with `HandOver` stays present: the tabs of a browser hand over within 2 s. */
export const HAND_OVER_GRACE_MS = 2000;

export interface PresenceOptions {
  /** Rooms one socket may watch at once (WS_MAX_PRESENCE_WATCHES). */
  readonly maxWatchesPerSocket: number;
  /** Closed sockets of one user that may stay present during a hand-over (WS_MAX_SOCKETS_PER_USER). */
  readonly maxHandOversPerUser: number;
  readonly membersTimeoutMs?: number;
  readonly handOverGraceMs?: number;
}

export class RoomPresence {
  readonly local = new LocalPresence();
  /** Room → the sockets here that watch it. */
  private readonly watchers = new Map<PresenceRoom, Set<Connection>>();
  private watches = 0;
  private readonly replies: ReplyContext;
  /** Sockets closed with `HandOver` still present: each one's leave, run when its grace ends (or at close). */
  private readonly handOvers = new Map<ReturnType<typeof setTimeout>, () => void>();
  /** userId → its sockets in `handOvers`. */
  private readonly handOversOf = new Map<string, number>();

  constructor(
    private readonly store: PresenceStore,
    private readonly outbound: Outbound,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
    private readonly options: PresenceOptions,
  ) {
    this.replies = { outbound, metrics };
  }

  start(): Promise<void> {
    return this.store.start({ change: (change) => this.deliver(change), lost: () => this.relist() }, this.local);
  }

  close(): Promise<void> {
    for (const [timer, leave] of this.handOvers) {
      clearTimeout(timer);
      leave();
    }
    this.handOvers.clear();
    this.handOversOf.clear();
    return this.store.close();
  }

  /** Sockets watching rooms, counted once per room. */
  get watchCount(): number {
    return this.watches;
  }

  /** Closed sockets still present, waiting for the socket their tab handed over to. */
  get handOverCount(): number {
    return this.handOvers.size;
  }

  /** The socket is now in `room` (accepted into it, or subscribed). */
  entered(connection: Connection, room: Room): void {
    if (isPresenceRoom(room)) this.enteredPresenceRoom(connection, room);
  }

  /**
   * The socket is now in a room known to be a presence room, such as its own user room at the
   * handshake (made from the token's checked userId): no need to parse the name again.
   */
  enteredPresenceRoom(connection: Connection, room: PresenceRoom): void {
    const { userId, role } = connection.claims;
    const before = this.local.add(room, userId, role);
    this.store.changed(room, userId, role, before, before + 1);
  }

  /** The socket is no longer in `room` (unsubscribed, or closed). */
  left(connection: Connection, room: Room): void {
    if (!isPresenceRoom(room)) return;
    const { userId, role } = connection.claims;
    const before = this.local.remove(room, userId);
    if (before > 0) this.store.changed(room, userId, role, before, before - 1);
  }

  /**
   * The client closed the socket with `HandOver`: it leaves `rooms` after the grace period, so the socket that follows
   * it (another tab of the same browser) finds the user still present. A user with as many such sockets as it may
   * have open (a client that hands over again and again) leaves at once.
   */
  handedOver(connection: Connection, rooms: readonly Room[]): void {
    const leaveAll = () => {
      for (const room of rooms) this.left(connection, room);
    };
    const { userId } = connection.claims;
    const pending = this.handOversOf.get(userId) ?? 0;
    if (pending >= this.options.maxHandOversPerUser) return leaveAll();
    this.handOversOf.set(userId, pending + 1);
    const timer = setTimeout(() => {
      this.handOvers.delete(timer);
      const left = (this.handOversOf.get(userId) ?? 1) - 1;
      if (left > 0) this.handOversOf.set(userId, left);
      else this.handOversOf.delete(userId);
      leaveAll();
    }, this.options.handOverGraceMs ?? HAND_OVER_GRACE_MS);
    timer.unref?.();
    this.handOvers.set(timer, leaveAll);
  }

  /** A closed socket stops watching. */
  released(connection: Connection): void {
    if (connection.watching === undefined) return;
    for (const room of connection.watching.keys()) this.removeWatcher(connection, room);
    connection.watching = undefined;
  }

  /**
   * Answers `presence {room, watch}` (the room policy has already admitted it): the members, and from
   * then on the changes when `watch`; without it, the socket stops watching the room.
   */
  request(connection: Connection, room: PresenceRoom, watch: boolean, correlationId: string | undefined): void {
    let state: PresenceWatch | undefined;
    if (watch) {
      state = this.watch(connection, room);
      if (state === undefined) {
        this.metrics.presenceRequests.inc({ outcome: 'too-many-watches' });
        const message = `watching too many rooms (at most ${this.options.maxWatchesPerSocket}); stop watching one first`;
        reply(this.replies, connection, 'error', { code: 'RATE_LIMITED', room, message }, correlationId);
        return;
      }
    } else this.unwatch(connection, room);
    this.metrics.presenceRequests.inc({ outcome: watch ? 'watch' : 'list' });
    this.list(room, [connection], correlationId);
  }

  /**
   * Reads the members of `room` and sends them to `connections` (with the request's correlationId, or
   * none for a list the gateway sends `unasked`); changes for those that watch are held until then.
   */
  private list(room: PresenceRoom, connections: readonly Connection[], correlationId: string | undefined, unasked = false): void {
    const states = connections.map((connection) => {
      const state = connection.watching?.get(room);
      if (state) state.pendingLists++;
      return state;
    });
    const send = (members: readonly PresenceMember[]) => {
      connections.forEach((connection, i) => {
        if (!connection.released) reply(this.replies, connection, 'presence', { room, members: [...members] }, correlationId);
        const state = states[i];
        if (state !== undefined) state.listed = true;
        this.listed(connection, room, state);
      });
    };
    const fail = (error: unknown) => {
      this.metrics.presenceRequests.inc({ outcome: 'unavailable' });
      this.logger.warn({ err: error instanceof Error ? error.message : String(error), room }, 'presence: cannot read the members');
      if (unasked) {
        // The gateway's own list: nobody asked, nobody is answered; the watches stay.
        connections.forEach((connection, i) => this.listed(connection, room, states[i]));
        return;
      }
      connections.forEach((connection, i) => {
        const state = states[i];
        // A watch whose first list failed is not a watch: the client asks again. One already listed stays (a socket
        // shared by a browser's tabs asks again for a room one tab watches when another tab starts watching it).
        if (state !== undefined && !state.listed && connection.watching?.get(room) === state && state.pendingLists === 1) {
          this.unwatch(connection, room);
        } else this.listed(connection, room, state);
        if (!connection.released) {
          reply(this.replies, connection, 'error', { code: 'SERVICE_UNAVAILABLE', room, message: 'cannot list the members now; retry' }, correlationId);
        }
      });
    };
    let members: readonly PresenceMember[] | Promise<readonly PresenceMember[]>;
    try {
      members = this.store.members(room);
    } catch (error) {
      fail(error);
      return;
    }
    if (!(members instanceof Promise)) {
      send(members);
      return;
    }
    withTimeout(members, this.options.membersTimeoutMs ?? MEMBERS_TIMEOUT_MS).then(send, fail).catch((error: unknown) => {
      this.metrics.internalErrors.inc({ source: 'presence' });
      this.logger.error({ err: error, room }, 'presence: answering a members list failed');
    });
  }

  /** One list of `room` went out to `connection`: once none is pending, the held changes follow it. */
  private listed(connection: Connection, room: PresenceRoom, state: PresenceWatch | undefined): void {
    if (state === undefined || --state.pendingLists > 0) return;
    const held = state.held.splice(0);
    state.heldBytes = 0;
    if (connection.watching?.get(room) !== state) return; // stopped watching meanwhile
    for (const frame of held) this.outbound.send(connection, frame);
  }

  private watch(connection: Connection, room: PresenceRoom): PresenceWatch | undefined {
    const watching = (connection.watching ??= new Map());
    const existing = watching.get(room);
    if (existing) return existing;
    if (watching.size >= this.options.maxWatchesPerSocket) return undefined;
    const state: PresenceWatch = { pendingLists: 0, listed: false, held: [], heldBytes: 0 };
    watching.set(room, state);
    let sockets = this.watchers.get(room);
    if (!sockets) this.watchers.set(room, (sockets = new Set()));
    sockets.add(connection);
    this.watches++;
    return state;
  }

  private unwatch(connection: Connection, room: PresenceRoom): void {
    if (connection.watching?.delete(room)) this.removeWatcher(connection, room);
  }

  private removeWatcher(connection: Connection, room: PresenceRoom): void {
    const sockets = this.watchers.get(room);
    if (sockets?.delete(connection)) {
      this.watches--;
      if (sockets.size === 0) this.watchers.delete(room);
    }
  }

  /** A change from the store: framed once, sent to every socket here that watches the room. */
  private deliver(change: PresenceChange): void {
    this.metrics.presenceChanged(change.change);
    const sockets = this.watchers.get(change.room);
    if (sockets === undefined) return;
    const message =
      change.change === 'joined'
        ? serverMessage('presence:joined', { room: change.room, userId: change.userId, role: change.role })
        : serverMessage('presence:left', { room: change.room, userId: change.userId });
    const frame = textFrame(JSON.stringify(message));
    let sent = 0;
    for (const connection of sockets) {
      const state = connection.watching?.get(change.room);
      if (state === undefined || state.pendingLists === 0) {
        if (this.outbound.send(connection, frame)) sent++;
        continue;
      }
      // Held changes count against the socket's bound with its backlog, like events held for a replay.
      state.held.push(frame);
      state.heldBytes += frame.length;
      this.outbound.holds(connection, state.heldBytes);
    }
    this.metrics.messagesSent.inc({ type: message.type }, sent);
  }

  /** Changes may have been missed: every watcher gets the members again, unasked (no correlationId). */
  private relist(): void {
    for (const [room, sockets] of this.watchers) this.list(room, [...sockets], undefined, true);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
