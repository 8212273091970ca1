/**
 * A member's own replay: a member that was away (disconnected, its page hidden) asks the gateway for what it missed
 * when it comes back, and the live room events that arrive before the answer are held back, so that none overtakes
 * the replay; they follow it in order.
 */
import { compareEventIds, isRoomEvent, type ClientMessage, type RoomEvent, type ServerMessage } from '@payments-system/protocol';

/** Live events a member holds while its replay is on the way; past it, the replay is given up (`recovery:failed`). */
export const MAX_HELD_EVENTS = 5000;

export class HeldReplay {
  /** The member was away: its next `resume` asks the gateway for a replay. */
  private needed = false;
  /** Room events held back until the member's replay is answered. */
  private holding: { correlationId: string | null; since: string | null; readonly events: RoomEvent[] } | null = null;

  constructor(
    /** Gives a message to the facade. */
    private readonly deliver: (message: ServerMessage) => void,
    private readonly now: () => number,
  ) {}

  /** The member stops receiving for a while (`resumePoint`: where it is, `null` when it has no position yet). */
  awayFromNow(resumePoint: string | null): void {
    if (resumePoint !== null) this.needed = true;
  }

  /**
   * A socket came into view: `tellOpen` tells the facade, which asks for its replay then. What comes meanwhile is held
   * until the replay is answered; when it asked for none, it had nothing to resume from.
   */
  opening(tellOpen: () => void): void {
    if (this.needed) this.holding = { correlationId: null, since: null, events: [] };
    tellOpen();
    if (this.holding?.correlationId === null) this.release(null);
  }

  /** The socket went away: an unanswered replay is asked again on the next socket (it is still needed). */
  closed(): void {
    this.holding = null;
  }

  /** The session ended: nothing of it is replayed. */
  forget(): void {
    this.needed = false;
    this.holding = null;
  }

  /** Whether the facade's `message` asks for the replay this member holds events for (it is then noted as such). */
  asks(message: ClientMessage): boolean {
    if (message.type !== 'resume' || !this.holding || message.correlationId === undefined) return false;
    this.holding.correlationId = message.correlationId;
    this.holding.since = message.payload.since ?? null; // none: it asks for its position
    return true;
  }

  /** Delivers a message of the socket to the facade, or holds it while the replay is on the way. */
  receive(message: ServerMessage): void {
    const holding = this.holding;
    if (holding && holding.correlationId !== null && message.correlationId === holding.correlationId) return this.release(message);
    if (holding && isRoomEvent(message)) {
      if (holding.events.length < MAX_HELD_EVENTS || holding.since === null) return void holding.events.push(message);
      // The replay takes too long for what keeps coming: give it up as the gateway would, and let the app reload.
      const payload = { since: holding.since, reason: 'too-many' as const };
      this.release({ type: 'recovery:failed', payload, timestamp: new Date(this.now()).toISOString() });
    }
    this.deliver(message);
  }

  /** The replay was answered: the events held meanwhile follow in order (the facade drops duplicates). */
  private release(reply: ServerMessage | null): void {
    const events = this.holding?.events ?? [];
    this.holding = null;
    this.needed = false;
    events.sort((a, b) => compareEventIds(a.id ?? '0-0', b.id ?? '0-0'));
    for (const message of events) this.deliver(message);
    if (reply) this.deliver(reply);
  }
}
