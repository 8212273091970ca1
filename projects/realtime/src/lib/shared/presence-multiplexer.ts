/**
 * The owner's presence watches: which member watches which room, refcounted across members, and the `presence`
 * requests that keep the one socket watching exactly the rooms someone watches. A member's `watch: false` never stops
 * a watch another member still has: the socket's request then keeps watching (and lists, which is what the member
 * asked for). Each member's request keeps its own correlation id: it is answered with the gateway's reply to the
 * socket's request (a copy carrying the member's id); the other members watching the room get the same list unasked
 * (a list is the whole truth). Pure: it returns what to send and whom to answer, like {@link RoomMultiplexer}.
 */
import type { ClientMessage, PresenceRoom, ServerMessage } from '@payments-system/protocol';
import { MemberWants, SocketRequests, type Waiter } from './socket-requests';

export type PresenceReply = ServerMessage<'presence' | 'error'>;

export type PresenceAction =
  /** Write this to the socket. */
  | { readonly type: 'send'; readonly message: ClientMessage<'presence'> }
  /** Give this reply to one member. */
  | { readonly type: 'reply'; readonly to: string; readonly message: PresenceReply };

interface SocketRequest {
  readonly room: PresenceRoom;
  readonly watch: boolean;
  readonly waiters: Waiter[];
}

/** Refusals after which a member's watch is over (its `presence$` errors), as in `PresenceWatches`. */
const FINAL_CODES: ReadonlySet<string> = new Set(['FORBIDDEN', 'BAD_REQUEST', 'RATE_LIMITED', 'UNAUTHORIZED']);

export class PresenceMultiplexer {
  private readonly wanted = new MemberWants<PresenceRoom>();
  /** Rooms the open socket watches (a `watch: true` was answered with a list, and no `watch: false` followed). */
  private readonly watching = new Set<PresenceRoom>();
  private readonly requests = new SocketRequests<PresenceRoom, SocketRequest>();
  private open = false;

  constructor(
    private readonly nextId: (prefix: string) => string,
    private readonly now: () => number,
  ) {}

  /** The rooms a member watches (for the roster). */
  watchesOf(member: string): readonly PresenceRoom[] {
    return this.wanted.of(member);
  }

  /** Restores what a previous owner knew (the roster it announced). */
  restore(member: string, rooms: readonly PresenceRoom[]): void {
    this.wanted.restore(member, rooms);
  }

  /** The members a change of `room` (or a list nobody asked for) goes to; `null` (everyone) when nobody watches it. */
  recipients(room: PresenceRoom): readonly string[] | null {
    return this.wanted.members(room);
  }

  /** A socket opened (it watches nothing): watch every room some member watches. */
  opened(): PresenceAction[] {
    this.closed();
    this.open = true;
    return [...this.wanted.union()].map((room) => this.request(room, true, null));
  }

  /** The socket is gone, and its watches with it: requests in flight die too (members ask again on the next one). */
  closed(): void {
    this.open = false;
    this.watching.clear();
    this.requests.clear();
  }

  /** A member's `presence {room, watch}`: it watches the room from now on, or no longer. */
  ask(member: string, room: PresenceRoom, watch: boolean, correlationId: string | undefined): PresenceAction[] {
    if (watch) this.wanted.add(member, room);
    else this.wanted.delete(member, room);
    if (!this.open) return [];
    const waiter = { member, correlationId };
    // The socket keeps watching while anyone does; either way the gateway's answer is the list the member asked for.
    const socketWatch = this.wanted.members(room) !== null;
    const pending = this.requests.pending(room);
    if (pending?.watch === socketWatch) {
      pending.waiters.push(waiter);
      return [];
    }
    return [this.request(room, socketWatch, waiter)];
  }

  /** A member left (or stopped wanting the connection): the socket stops watching the rooms nobody else watches. */
  memberLeft(member: string): PresenceAction[] {
    const rooms = this.wanted.forget(member);
    this.requests.dropWaiters(member);
    if (!rooms || !this.open) return [];
    const desired = this.wanted.union();
    return [...rooms]
      .filter((room) => !desired.has(room))
      .filter((room) => this.requests.pending(room)?.watch ?? this.watching.has(room))
      .map((room) => this.request(room, false, null));
  }

  /** The gateway's answer to one of the socket's requests; `null` when it answers none (not ours). */
  settle(reply: PresenceReply): PresenceAction[] | null {
    const settled = this.requests.settle(reply.correlationId);
    if (!settled) return null;
    const { room, watch, waiters } = settled.request;
    const listed = reply.type === 'presence';
    if (settled.newest) {
      // A refused re-watch leaves an established watch as it was (the gateway keeps it).
      if (!watch) this.watching.delete(room);
      else if (listed) this.watching.add(room);
    }
    if (!listed && FINAL_CODES.has(reply.payload.code)) {
      // Refused: those who asked stop watching, as their own socket's refusal would end their watch.
      for (const { member } of waiters) this.wanted.delete(member, room);
    }
    const actions: PresenceAction[] = waiters.map((waiter) => ({ type: 'reply', to: waiter.member, message: { ...reply, correlationId: waiter.correlationId } }));
    if (listed) {
      const asked = new Set(waiters.map((waiter) => waiter.member));
      for (const member of this.wanted.members(room) ?? []) {
        if (!asked.has(member)) actions.push({ type: 'reply', to: member, message: { ...reply, correlationId: undefined } });
      }
    }
    return actions;
  }

  private request(room: PresenceRoom, watch: boolean, waiter: Waiter | null): PresenceAction {
    const correlationId = this.nextId(watch ? 'tabs-watch' : 'tabs-unwatch');
    this.requests.add(correlationId, { room, watch, waiters: waiter ? [waiter] : [] });
    const timestamp = new Date(this.now()).toISOString();
    return { type: 'send', message: { type: 'presence', payload: { room, watch }, correlationId, timestamp } };
  }
}
