/**
 * The bookkeeping both multiplexers share (rooms to join, rooms to watch): which member wants which room, and the
 * socket's requests in flight with the members waiting for their answers.
 */

/** A member waiting for the answer to a socket's request; its own correlation id goes on the copy it gets. */
export interface Waiter {
  readonly member: string;
  /** The member's request id; a request without one gets a reply without one. */
  readonly correlationId: string | undefined;
}

/** Which member wants which room: the union is where the one socket must be. */
export class MemberWants<R extends string> {
  private readonly wanted = new Map<string, Set<R>>();

  of(member: string): readonly R[] {
    return [...(this.wanted.get(member) ?? [])];
  }

  /** What a previous owner knew (the roster it announced). */
  restore(member: string, rooms: readonly R[]): void {
    if (rooms.length > 0) this.wanted.set(member, new Set(rooms));
  }

  add(member: string, room: R): void {
    let rooms = this.wanted.get(member);
    if (!rooms) this.wanted.set(member, (rooms = new Set()));
    rooms.add(room);
  }

  delete(member: string, room: R): void {
    const rooms = this.wanted.get(member);
    if (rooms?.delete(room) && rooms.size === 0) this.wanted.delete(member);
  }

  /** Forgets the member; the rooms it wanted. */
  forget(member: string): ReadonlySet<R> | undefined {
    const rooms = this.wanted.get(member);
    this.wanted.delete(member);
    return rooms;
  }

  /** The members that want `room`, or `null` when none does. */
  members(room: R): readonly string[] | null {
    const members = [...this.wanted].filter(([, rooms]) => rooms.has(room)).map(([member]) => member);
    return members.length > 0 ? members : null;
  }

  /** Every room some member wants. */
  union(): Set<R> {
    const union = new Set<R>();
    for (const rooms of this.wanted.values()) for (const room of rooms) union.add(room);
    return union;
  }
}

/** The socket's requests in flight, by the owner's correlation id, and the newest one per room. */
export class SocketRequests<R extends string, T extends { readonly room: R; readonly waiters: Waiter[] }> {
  private readonly requests = new Map<string, T>();
  /** The newest request per room: the socket ends where it says (the gateway handles frames in order). */
  private readonly latest = new Map<R, string>();

  add(correlationId: string, request: T): void {
    this.requests.set(correlationId, request);
    this.latest.set(request.room, correlationId);
  }

  /** The newest request for `room` still in flight. */
  pending(room: R): T | undefined {
    const id = this.latest.get(room);
    return id === undefined ? undefined : this.requests.get(id);
  }

  /** Takes the request an answer settles; `newest`: no later request for its room was sent. */
  settle(correlationId: string | undefined): { readonly request: T; readonly newest: boolean } | null {
    const request = correlationId === undefined ? undefined : this.requests.get(correlationId);
    if (!request) return null;
    this.requests.delete(correlationId!);
    const newest = this.latest.get(request.room) === correlationId;
    if (newest) this.latest.delete(request.room);
    return { request, newest };
  }

  /** A member that left waits for nothing any more. */
  dropWaiters(member: string): void {
    for (const { waiters } of this.requests.values()) {
      for (let i = waiters.length - 1; i >= 0; i--) if (waiters[i]!.member === member) waiters.splice(i, 1);
    }
  }

  /** The socket is gone: its requests die with it. */
  clear(): void {
    this.requests.clear();
    this.latest.clear();
  }
}
