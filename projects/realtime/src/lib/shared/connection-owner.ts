/**
 * The owner's side of a shared connection: the one socket of the group (an ordinary transport, the WebSocket one,
 * wrapped and never forked), serving every member over the channel.
 *
 * - The socket is open while some member wants it.
 * - Rooms are refcounted across members ({@link RoomMultiplexer}); an event goes to the members that asked for its
 *   room (every member, for the handshake rooms).
 * - Presence watches are refcounted the same way ({@link PresenceMultiplexer}); a room's `presence:joined`/`left` go
 *   to the members that watch it.
 * - Replies go back to the member whose request carried their correlation id.
 * - Each socket resumes once, from the newest event id any member saw (or asks for a position when none saw one),
 *   after joining every wanted room; members' own `resume`s are absorbed, except those of a member that was away (it
 *   asks for a replay of its own) and position requests of a member that missed the socket's.
 * - Everything the member view needs (state, socket, token, roster) is announced on every change.
 */
import {
  isRoomEvent,
  isRoom,
  parseClientMessage,
  type ClientMessage,
  type ServerMessage,
} from '@payments-system/protocol';
import { Subscription, timer } from 'rxjs';
import type { RealtimeTransport, RealtimeTransportEvent, RealtimeTransportLink } from '../connection/transport';
import { handshakeRooms } from './handshake-rooms';
import type { MemberPresence } from './owner-election';
import { PresenceMultiplexer, type PresenceAction, type PresenceReply } from './presence-multiplexer';
import { RoomMultiplexer, type RoomAction, type RoomReply } from './room-multiplexer';
import { SocketResumes } from './socket-resumes';
import type { MemberMessage, OwnerMessage, RosterEntry } from './tab-messages';

export interface ConnectionOwnerDeps {
  /** The owning member's id (it is a member too, and signs what the owner posts). */
  readonly memberId: string;
  readonly term: number;
  /** Opens the transport that owns the socket (the WebSocket one, on the owning tab's token source). */
  readonly openTransport: (link: RealtimeTransportLink) => RealtimeTransport;
  /** The token the socket uses: announced, so that the next owner starts with it. */
  readonly tokenInUse: () => string | null;
  /** The newest event id any member saw (`?since=` and the socket's `resume`). */
  readonly resumePoint: () => string | null;
  readonly post: (message: OwnerMessage) => void;
  readonly nextId: (prefix: string) => string;
  readonly now: () => number;
  /** Who is still there (Web Locks); `null`: members that do not greet this owner within `pruneAfterMs` are dropped. */
  readonly presence: MemberPresence | null;
  readonly pruneAfterMs: number;
}

interface Member {
  readonly wants: boolean;
  readonly seq: number;
  /** Greeted this owner (a member restored from the previous owner's roster has not yet). */
  readonly greeted: boolean;
}

/** Correlation ids remembered for routing replies; past this the oldest are forgotten (their replies go to everyone). */
const MAX_ROUTES = 1024;
/**
 * Bound on what the channel can make the owner keep (any script of the origin may post on it): members (a status from
 * one more is ignored). Replays waiting for the socket have their own bound (socket-resumes.ts).
 */
export const MAX_MEMBERS = 256;

export class ConnectionOwner {
  private readonly transport: RealtimeTransport;
  private readonly rooms: RoomMultiplexer;
  private readonly presence: PresenceMultiplexer;
  private readonly members = new Map<string, Member>();
  private readonly routes = new Map<string, string>();
  private readonly watches = new Map<string, Subscription>();
  private readonly subscriptions = new Subscription();
  private readonly resumes: SocketResumes;
  /** The `?since=` of the socket being opened: its `resume` must say the same. */
  private since: string | null = null;
  private opened = 0;
  private socket: string | null = null;

  constructor(
    private readonly deps: ConnectionOwnerDeps,
    previous: { readonly roster: readonly RosterEntry[]; readonly lastEventId: string | null } | null,
  ) {
    this.rooms = new RoomMultiplexer(deps.nextId, deps.now);
    this.presence = new PresenceMultiplexer(deps.nextId, deps.now);
    const deliver = (message: ServerMessage, to: readonly string[] | null) => this.deliver(message, to);
    const write = (message: ClientMessage) => void this.transport.write(message);
    this.resumes = new SocketResumes({ write, deliver, nextId: deps.nextId, now: deps.now }, previous?.lastEventId ?? null);
    for (const entry of previous?.roster ?? []) {
      if (entry.id === deps.memberId) continue; // this tab greets itself below, like any member
      this.members.set(entry.id, { wants: entry.wants, seq: entry.seq, greeted: false });
      if (entry.wants) {
        this.rooms.restore(entry.id, entry.rooms);
        this.presence.restore(entry.id, entry.watches);
      }
      this.watch(entry.id);
    }
    if (!deps.presence && this.members.size > 0) {
      this.subscriptions.add(timer(deps.pruneAfterMs).subscribe(() => this.prune()));
    }
    this.transport = deps.openTransport({ resumePoint: () => (this.since = deps.resumePoint()) });
    this.subscriptions.add(this.transport.events$.subscribe((event) => this.onTransportEvent(event)));
    if (this.wanted()) this.transport.connect();
    this.announce();
  }

  /** A member's message (the owning tab's own member included). */
  onMember(message: MemberMessage): void {
    switch (message.kind) {
      case 'status':
        return this.onStatus(message.from, message.seq, message.wants);
      case 'write':
        return this.onWrite(message.from, message.frame, message.replay);
      case 'reconnect':
        if (this.members.get(message.from)?.wants) this.transport.reconnect();
        return;
      case 'probe':
        return this.announce();
      case 'leave':
        return this.memberGone(message.from);
      case 'sign-out':
      case 'claim':
        return; // each member ends its own session; the election weighs claims
    }
  }

  /**
   * Stands down: closes the socket, with 4010 when `handOver` and another member wants the connection (its socket
   * follows at once, and the gateway keeps the user present meanwhile), else with 1000.
   */
  destroy(handOver = false): void {
    const others = [...this.members].some(([id, member]) => id !== this.deps.memberId && member.wants);
    this.subscriptions.unsubscribe();
    for (const watch of this.watches.values()) watch.unsubscribe();
    this.watches.clear();
    this.transport.destroy(handOver && others);
  }

  // ------------------------------------------------------------------ members

  private onStatus(member: string, seq: number, wants: boolean): void {
    const before = this.members.get(member);
    if (!before && this.members.size >= MAX_MEMBERS) return;
    this.members.set(member, { wants, seq, greeted: true });
    if (!before) this.watch(member);
    if (before?.wants && !wants) this.left(member);
    if (wants) this.transport.connect(); // a no-op while connecting or connected; a new start after giving up
    else if (!this.wanted()) this.transport.disconnect();
    this.announce();
  }

  private onWrite(member: string, frame: string, replay: boolean): void {
    if (!this.members.get(member)?.wants) return; // a member that no longer wants the socket has nothing to say on it
    const parsed = parseClientMessage(frame);
    if (!parsed.ok) return; // not a message of the protocol this library speaks: never reaches the gateway
    const message = parsed.value;
    switch (message.type) {
      case 'subscribe':
        this.apply(this.rooms.subscribe(member, message.payload.room, message.correlationId));
        return this.announce();
      case 'unsubscribe':
        this.apply(this.rooms.unsubscribe(member, message.payload.room, message.correlationId));
        return this.announce();
      case 'presence':
        this.apply(this.presence.ask(member, message.payload.room, message.payload.watch === true, message.correlationId));
        return this.announce();
      case 'resume':
        return this.resumes.requested(member, message, replay);
      default:
        if (message.correlationId !== undefined) this.route(message.correlationId, member);
        this.transport.write(message);
    }
  }

  private memberGone(member: string): void {
    if (!this.members.delete(member)) return;
    this.watches.get(member)?.unsubscribe();
    this.watches.delete(member);
    this.left(member);
    if (!this.wanted()) this.transport.disconnect();
    this.announce();
  }

  /** The member no longer uses the socket: its rooms and watches are let go. */
  private left(member: string): void {
    this.apply(this.rooms.memberLeft(member));
    this.apply(this.presence.memberLeft(member));
  }

  private watch(member: string): void {
    const presence = this.deps.presence;
    if (!presence || member === this.deps.memberId || this.watches.has(member)) return;
    this.watches.set(member, presence.gone$(member).subscribe(() => this.memberGone(member)));
  }

  /** Without presence: members of the previous owner that did not greet this one are gone. */
  private prune(): void {
    for (const [member, state] of [...this.members]) if (!state.greeted) this.memberGone(member);
  }

  private wanted(): boolean {
    return [...this.members.values()].some((m) => m.wants);
  }

  // ------------------------------------------------------------------ the socket

  private onTransportEvent(event: RealtimeTransportEvent): void {
    switch (event.type) {
      case 'open':
        return this.onOpen();
      case 'state':
        if (event.snapshot.state !== 'connected' && this.socket !== null) this.onClosed();
        return this.announce();
      case 'message':
        return this.onMessage(event.message);
      case 'error':
        return this.deps.post({ kind: 'error', from: this.deps.memberId, term: this.deps.term, error: event.error });
      case 'session-ended':
        return; // sessions are each member's business (the owning tab's member leaves the group)
    }
  }

  private onOpen(): void {
    this.socket = `${this.deps.term}.${++this.opened}`;
    this.apply(this.rooms.opened(handshakeRooms(this.deps.tokenInUse())));
    this.apply(this.presence.opened());
    // After the rooms, as a lone client does: the gateway held live events since the handshake's `?since=`.
    this.resumes.opened(this.since);
  }

  private onClosed(): void {
    this.socket = null;
    this.rooms.closed();
    this.presence.closed();
    this.routes.clear();
    this.resumes.closed();
  }

  private onMessage(message: ServerMessage): void {
    if (isRoomEvent(message)) {
      if (message.id !== undefined) this.resumes.seen(message.id);
      const room = message.room;
      return this.deliver(message, room !== undefined && isRoom(room) ? this.rooms.recipients(room) : null);
    }
    if (this.resumes.answered(message)) return;
    const id = message.correlationId;
    if (message.type === 'subscribed' || message.type === 'unsubscribed' || message.type === 'error') {
      const actions = this.rooms.settle(message as RoomReply);
      if (actions) {
        this.apply(actions);
        return this.announce(); // a refused room left the roster
      }
    }
    if (message.type === 'presence' || message.type === 'error') {
      const actions = this.presence.settle(message as PresenceReply);
      if (actions) {
        this.apply(actions);
        if (message.type === 'error') this.announce(); // a refused watch left the roster
        return;
      }
    }
    if (message.type === 'presence:joined' || message.type === 'presence:left' || message.type === 'presence') {
      // A change, or a list the gateway sends unasked: for the members watching that room.
      return this.deliver(message, this.presence.recipients(message.payload.room));
    }
    const member = id === undefined ? undefined : this.routes.get(id);
    if (id !== undefined) this.routes.delete(id);
    this.deliver(message, member === undefined ? null : [member]);
    // The socket took a new token in-band: announce it, so that the next owner starts with it.
    if (message.type === 'authenticated') this.announce();
  }

  private apply(actions: readonly (RoomAction | PresenceAction)[]): void {
    for (const action of actions) {
      if (action.type === 'send') this.transport.write(action.message);
      else this.deliver(action.message, [action.to]);
    }
  }

  private route(correlationId: string, member: string): void {
    this.routes.delete(correlationId);
    this.routes.set(correlationId, member);
    if (this.routes.size > MAX_ROUTES) this.routes.delete(this.routes.keys().next().value as string);
  }

  private deliver(message: ServerMessage, to: readonly string[] | null): void {
    this.deps.post({ kind: 'frame', from: this.deps.memberId, term: this.deps.term, frame: JSON.stringify(message), to });
  }

  private announce(): void {
    const snapshot = this.transport.snapshot;
    this.deps.post({
      kind: 'owner',
      from: this.deps.memberId,
      term: this.deps.term,
      snapshot,
      socket: snapshot.state === 'connected' ? this.socket : null,
      token: this.deps.tokenInUse(),
      lastEventId: this.resumes.lastEventId,
      roster: [...this.members].map(
        ([id, m]): RosterEntry => ({ id, wants: m.wants, seq: m.seq, rooms: this.rooms.roomsOf(id), watches: this.presence.watchesOf(id) }),
      ),
    });
  }
}
