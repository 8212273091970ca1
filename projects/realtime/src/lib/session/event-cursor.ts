/**
 * Resume and dedupe: the id of the newest room event seen. A reconnect announces it (`?since=`) and sends
 * `resume {since}`, and the gateway replays what the rooms missed; any event at or below it was seen already
 * (a replay overlapping live delivery) and is dropped, so the app sees each event once. Before the first event the
 * client asks for its position (`resume {}`), so that a socket whose rooms stay quiet can resume too. The position
 * belongs to one login session: it is reset when that session ends, so a new login never resumes (and replays) the
 * previous one.
 */
import { compareEventIds, type ClientMessage, type RoomEvent } from '@payments-system/protocol';

export class EventCursor {
  private last: string | null = null;

  /** Id of the newest room event accepted, or `null` before the first one. */
  get lastEventId(): string | null {
    return this.last;
  }

  /** `false` for an event already seen; moves the cursor past a new one. Events without an id always pass. */
  accept(event: RoomEvent): boolean {
    if (event.id === undefined) return true;
    // Ids are totally ordered per socket: anything not newer was already seen.
    if (this.last !== null && compareEventIds(event.id, this.last) <= 0) return false;
    this.last = event.id;
    return true;
  }

  /**
   * Moves the cursor to a `resumed` reply's position when that is newer: every event after it reaches the socket, and
   * every event at or below it did already (the gateway writes events in order, and the reply after them).
   */
  advance(since: string): void {
    if (this.last === null || compareEventIds(since, this.last) > 0) this.last = since;
  }

  /** Forgets the position: the login session it belonged to is over, and the next one starts without a resume. */
  reset(): void {
    this.last = null;
  }

  /** The `resume` to send once connected (after the rooms are joined): without a position, it asks for one. */
  resumeMessage(correlationId: string): ClientMessage<'resume'> {
    return { type: 'resume', payload: this.last === null ? {} : { since: this.last }, correlationId };
  }
}
