/**
 * The resumes on the owner's socket: its own, once per socket (from the newest event id any member saw, or a position
 * request when none saw one), then members' replays one at a time, each answered to the member that asked.
 */
import type { ClientMessage, ServerMessage } from '@payments-system/protocol';
import { later } from './later-event-id';

type ResumeOf = ClientMessage<'resume'>;

/**
 * Replays waiting for the socket (any script of the origin may post on the channel): one more is answered
 * `recovery:failed` (reload), or an error to a position request.
 */
export const MAX_WAITING_REPLAYS = 64;

export interface SocketResumesDeps {
  readonly write: (message: ClientMessage) => void;
  /** Sends a message to these members (`null`: every member). */
  readonly deliver: (message: ServerMessage, to: readonly string[] | null) => void;
  readonly nextId: (prefix: string) => string;
  readonly now: () => number;
}

export class SocketResumes {
  private readonly waiting: Array<{ readonly member: string; readonly message: ResumeOf }> = [];
  /** The `resume` in flight on the socket, and whom its reply goes to (`null`: everyone, the socket's own). */
  private inFlight: { readonly correlationId: string; readonly to: string | null } | null = null;
  private open = false;

  /** @param newest The newest event id the socket delivered, or the position it was given: members' position. */
  constructor(
    private readonly deps: SocketResumesDeps,
    private newest: string | null,
  ) {}

  get lastEventId(): string | null {
    return this.newest;
  }

  /** An event the socket delivered. */
  seen(id: string): void {
    this.newest = later(this.newest, id);
  }

  /** The socket is open, its rooms joined: it resumes from `since` (its `?since=`), or asks for a position. */
  opened(since: string | null): void {
    this.open = true;
    const correlationId = this.deps.nextId('tabs-resume');
    this.inFlight = { correlationId, to: null };
    this.deps.write({ type: 'resume', payload: since === null ? {} : { since }, correlationId });
  }

  closed(): void {
    this.open = false;
    this.inFlight = null;
    this.waiting.length = 0; // those members ask again on the next socket
  }

  /** A member's `resume`; `replay`: it was away, and asks for what it missed. */
  requested(member: string, message: ResumeOf, replay: boolean): void {
    if (message.payload.since === undefined) return this.positionFor(member, message);
    if (replay) this.enqueue(member, message); // else the socket's own resume covers a member that never left
  }

  /** Whether `message` answers the resume in flight; if so it went to whom it is for, and the next one is sent. */
  answered(message: ServerMessage): boolean {
    const flight = this.inFlight;
    if (message.correlationId === undefined || message.correlationId !== flight?.correlationId) return false;
    this.inFlight = null;
    if (flight.to === null && message.type === 'resumed') this.seen(message.payload.since);
    this.deps.deliver(message, flight.to === null ? null : [flight.to]);
    this.next();
    return true;
  }

  /**
   * A member without a position asks for one. The socket's own request (sent on open) answers every member; after
   * it, the newest event id the socket delivered is a position (every later event reaches the member); before any,
   * the gateway is asked.
   */
  private positionFor(member: string, message: ResumeOf): void {
    if (this.inFlight?.to === null) return;
    if (this.newest === null) return this.enqueue(member, message);
    const timestamp = new Date(this.deps.now()).toISOString();
    this.deps.deliver({ type: 'resumed', payload: { since: this.newest, replayed: 0 }, timestamp, correlationId: message.correlationId }, [member]);
  }

  private enqueue(member: string, message: ResumeOf): void {
    if (this.waiting.length >= MAX_WAITING_REPLAYS) return this.refuse(member, message);
    this.waiting.push({ member, message });
    this.next();
  }

  private next(): void {
    if (this.inFlight || !this.open) return;
    const next = this.waiting.shift();
    if (!next) return;
    const correlationId = next.message.correlationId ?? this.deps.nextId('tabs-resume');
    this.inFlight = { correlationId, to: next.member };
    this.deps.write({ ...next.message, correlationId });
  }

  /** Answers a request this owner will not make as the gateway answers one it cannot: reload your state. */
  private refuse(member: string, message: ResumeOf): void {
    const timestamp = new Date(this.deps.now()).toISOString();
    const { correlationId } = message;
    const { since } = message.payload;
    if (since === undefined) {
      const payload = { code: 'RATE_LIMITED' as const, message: 'too many tabs are asking for their position' };
      return this.deps.deliver({ type: 'error', payload, timestamp, correlationId }, [member]);
    }
    this.deps.deliver({ type: 'recovery:failed', payload: { since, reason: 'unavailable' }, timestamp, correlationId }, [member]);
  }
}
