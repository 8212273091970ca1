/**
 * Resume and dedupe: the id of the newest room event seen. A reconnect announces it (`?since=`) and sends
 * `resume {since}`, and the gateway replays what the rooms missed; any event at or below it was seen already
 * (a replay overlapping live delivery) and is dropped, so the app sees each event once. The position belongs to one
 * login session: it is reset when that session ends, so a new login never resumes (and replays) the previous one.
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

  /** Forgets the position: the login session it belonged to is over, and the next one starts without a resume. */
  reset(): void {
    this.last = null;
  }

  /** The `resume` to send after a reconnect (after the rooms are re-joined), or `null` before any event. */
  resumeMessage(correlationId: string): ClientMessage<'resume'> | null {
    return this.last === null ? null : { type: 'resume', payload: { since: this.last }, correlationId };
  }
}
