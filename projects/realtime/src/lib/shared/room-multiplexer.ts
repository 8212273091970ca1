/**
 * The owner's rooms: which member wants which room, refcounted across members, and the requests that keep the one
 * socket in exactly the rooms someone wants. Each member's `subscribe`/`unsubscribe` keeps its own correlation id:
 * it is answered with the gateway's reply to the socket's request (a copy carrying the member's id), or at once when
 * the socket is already where the member wants it. Pure: it returns what to send and whom to answer.
 */
import type { ClientMessage, Room, ServerMessage } from '@payments-system/protocol';
import { MemberWants, SocketRequests, type Waiter } from './socket-requests';

export type RoomReply = ServerMessage<'subscribed' | 'unsubscribed' | 'error'>;

export type RoomAction =
  /** Write this to the socket. */
  | { readonly type: 'send'; readonly message: ClientMessage<'subscribe' | 'unsubscribe'> }
  /** Give this reply to one member. */
  | { readonly type: 'reply'; readonly to: string; readonly message: RoomReply };

interface SocketRequest {
  readonly room: Room;
  readonly action: 'subscribe' | 'unsubscribe';
  readonly waiters: Waiter[];
}

export class RoomMultiplexer {
  private readonly wanted = new MemberWants<Room>();
  /** Rooms the gateway confirmed for the open socket (its handshake rooms included). */
  private readonly joined = new Set<Room>();
  private readonly requests = new SocketRequests<Room, SocketRequest>();
  private handshakeRooms: ReadonlySet<Room> = new Set();
  private open = false;

  constructor(
    private readonly nextId: (prefix: string) => string,
    private readonly now: () => number,
  ) {}

  /** Every member's rooms (for the roster). */
  roomsOf(member: string): readonly Room[] {
    return this.wanted.of(member);
  }

  /** Restores what a previous owner knew (the roster it announced). */
  restore(member: string, rooms: readonly Room[]): void {
    this.wanted.restore(member, rooms);
  }

  /** The members an event of `room` goes to: those that asked for it; `null` (everyone) for a handshake room or one nobody asked for. */
  recipients(room: Room): readonly string[] | null {
    return this.handshakeRooms.has(room) ? null : this.wanted.members(room);
  }

  /** A socket opened in `handshakeRooms` (the gateway's own choice): join every room some member wants. */
  opened(handshakeRooms: ReadonlySet<Room>): RoomAction[] {
    this.closed();
    this.open = true;
    this.handshakeRooms = handshakeRooms;
    for (const room of handshakeRooms) this.joined.add(room);
    return [...this.wanted.union()].filter((room) => !this.joined.has(room)).map((room) => this.request('subscribe', room, null));
  }

  /** The socket is gone: requests in flight die with it (members ask again when the next one opens). */
  closed(): void {
    this.open = false;
    this.joined.clear();
    this.requests.clear();
  }

  subscribe(member: string, room: Room, correlationId: string | undefined): RoomAction[] {
    this.wanted.add(member, room);
    if (!this.open) return [];
    const waiter = { member, correlationId };
    const pending = this.requests.pending(room);
    if (pending?.action === 'subscribe') {
      pending.waiters.push(waiter);
      return [];
    }
    if (!pending && this.joined.has(room)) return [this.reply(waiter, 'subscribed', room)];
    return [this.request('subscribe', room, waiter)];
  }

  unsubscribe(member: string, room: Room, correlationId: string | undefined): RoomAction[] {
    this.wanted.delete(member, room);
    if (!this.open) return [];
    const waiter = { member, correlationId };
    // Another member still wants it, or the gateway put the socket there itself: the socket stays.
    if (this.wanted.members(room) || this.handshakeRooms.has(room)) return [this.reply(waiter, 'unsubscribed', room)];
    const pending = this.requests.pending(room);
    if (pending?.action === 'unsubscribe') {
      pending.waiters.push(waiter);
      return [];
    }
    if (!pending && !this.joined.has(room)) return [this.reply(waiter, 'unsubscribed', room)];
    return [this.request('unsubscribe', room, waiter)];
  }

  /** A member left (or stopped wanting the connection): the socket leaves the rooms nobody else wants. */
  memberLeft(member: string): RoomAction[] {
    const rooms = this.wanted.forget(member);
    this.requests.dropWaiters(member);
    if (!rooms || !this.open) return [];
    const desired = this.wanted.union();
    return [...rooms]
      .filter((room) => !desired.has(room) && !this.handshakeRooms.has(room))
      .filter((room) => this.joined.has(room) || this.requests.pending(room)?.action === 'subscribe')
      .map((room) => this.request('unsubscribe', room, null));
  }

  /** The gateway's reply to one of the socket's requests; `null` when it answers none (not ours). */
  settle(reply: RoomReply): RoomAction[] | null {
    const settled = this.requests.settle(reply.correlationId);
    if (!settled) return null;
    const { room, action, waiters } = settled.request;
    const refused = reply.type === 'error';
    if (settled.newest) {
      if (action === 'subscribe' && !refused) this.joined.add(room);
      else this.joined.delete(room);
      // Refused: those who asked forget the room, as a socket of their own would (unless a newer request decides).
      if (refused && action === 'subscribe') for (const { member } of waiters) this.wanted.delete(member, room);
    }
    return waiters.map((waiter) => ({ type: 'reply', to: waiter.member, message: { ...reply, correlationId: waiter.correlationId } }));
  }

  private request(action: 'subscribe' | 'unsubscribe', room: Room, waiter: Waiter | null): RoomAction {
    const correlationId = this.nextId(action === 'subscribe' ? 'tabs-sub' : 'tabs-unsub');
    this.requests.add(correlationId, { room, action, waiters: waiter ? [waiter] : [] });
    const timestamp = new Date(this.now()).toISOString();
    return { type: 'send', message: { type: action, payload: { room }, correlationId, timestamp } };
  }

  private reply(waiter: Waiter, type: 'subscribed' | 'unsubscribed', room: Room): RoomAction {
    const timestamp = new Date(this.now()).toISOString();
    return { type: 'reply', to: waiter.member, message: { type, payload: { room }, timestamp, correlationId: waiter.correlationId } };
  }
}
