/**
 * The presence rooms a client watches, refcounted like `room()`: the first observer sends `presence {room, watch:
 * true}`, the last one `watch: false`. The gateway answers with the members (`presence`, matched by correlation id),
 * then sends `presence:joined` / `presence:left`; each socket starts without watches, so every watched room is asked
 * for again after every reconnect (its list replaces what was known). A list the gateway sends unasked (it may have
 * missed changes) replaces it too.
 */
import type { ClientMessage, PresenceRoom, Role, ServerMessage } from '@payments-system/protocol';
import { BehaviorSubject, filter, Observable, Subject, timer, type Subscription } from 'rxjs';
import type { RealtimeConnectionState } from '../connection/connection-state';
import { RealtimeRequestError } from '../errors';

/** A user with at least one socket in the room, on any gateway. */
export interface RealtimePresenceMember {
  readonly userId: string;
  readonly role: Role;
}

export type PresenceReply = ServerMessage<'presence' | 'error'>;
export type PresenceChange = ServerMessage<'presence:joined' | 'presence:left'>;

/** What presence watches need from the connection. */
export interface PresenceWatchesLink {
  state(): RealtimeConnectionState;
  /** Writes to the open socket; `false` when there is none. */
  write(message: ClientMessage): boolean;
  nextId(prefix: string): string;
  now(): number;
}

interface Watched {
  observers: number;
  /** `null` until the first list arrives. */
  readonly members: BehaviorSubject<readonly RealtimePresenceMember[] | null>;
  /** The correlation id of the request in flight, and its timer. */
  pending: { readonly correlationId: string; readonly timer: Subscription } | null;
  /** A retry after an answer that may change (SERVICE_UNAVAILABLE, no answer in time). */
  retry: Subscription | null;
}

/** Errors that end a watch: the gateway will not list this room for this socket. */
const FINAL_CODES = new Set(['FORBIDDEN', 'BAD_REQUEST', 'RATE_LIMITED', 'UNAUTHORIZED']);

export class PresenceWatches {
  private readonly watched = new Map<PresenceRoom, Watched>();
  private readonly refusals = new Subject<RealtimeRequestError>();

  constructor(
    private readonly link: PresenceWatchesLink,
    private readonly timeoutMs: number,
  ) {}

  /** The members of `room` as they change, from the first list on; errors with the gateway's refusal. */
  watch(room: PresenceRoom): Observable<readonly RealtimePresenceMember[]> {
    return new Observable<readonly RealtimePresenceMember[]>((subscriber) => {
      const watched = this.acquire(room);
      const refused = this.refusals.pipe(filter((error) => error.room === room)).subscribe((error) => subscriber.error(error));
      const members = watched.members.pipe(filter((list): list is readonly RealtimePresenceMember[] => list !== null)).subscribe(subscriber);
      return () => {
        refused.unsubscribe();
        members.unsubscribe();
        this.release(room);
      };
    });
  }

  /** A socket opened: every watched room is asked for again (before the state turns `connected`). */
  rewatchAll(): void {
    for (const [room, watched] of this.watched) {
      this.clearRequest(watched);
      this.request(room, watched, true);
    }
  }

  /** Follows the connection: a request in flight dies with its socket (the next open asks again). */
  stateChanged(state: RealtimeConnectionState): void {
    if (state === 'connected') return;
    for (const watched of this.watched.values()) this.clearRequest(watched);
  }

  /** A `presence` list or an `error` that may answer one of our requests. */
  settle(reply: PresenceReply): void {
    if (reply.type === 'presence') {
      const watched = this.watched.get(reply.payload.room);
      if (!watched) return;
      // Ours, or sent unasked (no correlationId): either way the whole truth as of now.
      if (reply.correlationId !== undefined && reply.correlationId !== watched.pending?.correlationId) return;
      this.clearRequest(watched);
      watched.members.next(reply.payload.members.map(({ userId, role }) => ({ userId, role })));
      return;
    }
    const correlationId = reply.correlationId;
    if (correlationId === undefined) return;
    for (const [room, watched] of this.watched) {
      if (watched.pending?.correlationId !== correlationId) continue;
      this.clearRequest(watched);
      const { code, message } = reply.payload;
      if (FINAL_CODES.has(code)) {
        this.watched.delete(room);
        this.refusals.next(new RealtimeRequestError(code, message, room));
      } else this.retryLater(room, watched);
      return;
    }
  }

  /** `presence:joined` / `presence:left` of a watched room. */
  change(change: PresenceChange): void {
    const watched = this.watched.get(change.payload.room);
    const current = watched?.members.value;
    if (!watched || !current) return; // before the first list: the list will say
    const { userId } = change.payload;
    const others = current.filter((member) => member.userId !== userId);
    if (change.type === 'presence:joined') watched.members.next([...others, { userId, role: change.payload.role }]);
    else if (others.length !== current.length) watched.members.next(others);
  }

  private acquire(room: PresenceRoom): Watched {
    let watched = this.watched.get(room);
    if (!watched) {
      watched = { observers: 0, members: new BehaviorSubject<readonly RealtimePresenceMember[] | null>(null), pending: null, retry: null };
      this.watched.set(room, watched);
      this.request(room, watched, true);
    }
    watched.observers++;
    return watched;
  }

  private release(room: PresenceRoom): void {
    const watched = this.watched.get(room);
    if (!watched || --watched.observers > 0) return;
    this.watched.delete(room);
    this.clearRequest(watched);
    watched.members.complete();
    if (this.link.state() === 'connected') this.link.write({ type: 'presence', payload: { room, watch: false }, correlationId: this.link.nextId('unwatch') });
  }

  private request(room: PresenceRoom, watched: Watched, watch: boolean): void {
    const correlationId = this.link.nextId('presence');
    const timestamp = new Date(this.link.now()).toISOString();
    if (!this.link.write({ type: 'presence', payload: { room, watch }, correlationId, timestamp })) return; // asked on the next open
    const timeout = timer(this.timeoutMs).subscribe(() => {
      if (watched.pending?.correlationId !== correlationId) return;
      watched.pending = null;
      this.retryLater(room, watched);
    });
    watched.pending = { correlationId, timer: timeout };
  }

  /** Asks again after a while (the same wait as a request's timeout), while still watched and connected. */
  private retryLater(room: PresenceRoom, watched: Watched): void {
    watched.retry?.unsubscribe();
    watched.retry = timer(this.timeoutMs).subscribe(() => {
      watched.retry = null;
      if (this.watched.get(room) === watched && this.link.state() === 'connected') this.request(room, watched, true);
    });
  }

  private clearRequest(watched: Watched): void {
    watched.pending?.timer.unsubscribe();
    watched.pending = null;
    watched.retry?.unsubscribe();
    watched.retry = null;
  }
}
