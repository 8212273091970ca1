/**
 * What a member shows: the owner's connection state, told truthfully, along the same transitions a lone tab's state
 * machine allows. A member that waits for an owner (the owner's tab closed, or stopped answering, or this tab just
 * joined) shows `reconnecting` when it was connected or retrying, `connecting` otherwise; the owner's `connecting` is
 * `reconnecting` for a member that was connected (a lone tab never goes from `connected` to `connecting` either).
 */
import { Subject, type Observable } from 'rxjs';
import {
  canTransition,
  CONNECTING,
  ConnectionStateMachine,
  reconnecting,
  sameSnapshot,
  type RealtimeConnectionSnapshot,
} from '../connection/connection-state';
import type { RealtimeTransportEvent } from '../connection/transport';
import { HeldReplay } from './held-replay';

/** What the member should show: a state, or `waiting` for an owner. */
export type MemberTarget = RealtimeConnectionSnapshot | 'waiting';

/** The snapshots to go through, in order, from `current` to `target`; empty when nothing changes. */
export function pathTo(current: RealtimeConnectionSnapshot, target: MemberTarget): RealtimeConnectionSnapshot[] {
  const wanted = target === 'waiting' ? waitingFrom(current) : target;
  if (sameSnapshot(current, wanted)) return [];
  if (canTransition(current.state, wanted.state)) return [wanted];
  switch (wanted.state) {
    case 'connecting': {
      // connected or reconnecting: a lone tab would say reconnecting here
      const retry = reconnecting(current.state === 'reconnecting' ? current.attempt : 0, null);
      return sameSnapshot(current, retry) ? [] : [retry];
    }
    case 'connected':
    case 'reconnecting':
      return [CONNECTING, wanted]; // from disconnected
    default:
      return [wanted]; // disconnected is reachable from every other state
  }
}

function waitingFrom(current: RealtimeConnectionSnapshot): RealtimeConnectionSnapshot {
  switch (current.state) {
    case 'connected':
      return reconnecting(0, null);
    case 'reconnecting':
      return reconnecting(current.attempt, null);
    default:
      return CONNECTING;
  }
}

/** What the facade sees of a member: its state, `open` once per socket it may write to, and the socket's messages. */
export class MemberView {
  private readonly machine = new ConnectionStateMachine();
  private readonly subject = new Subject<RealtimeTransportEvent>();
  readonly events$: Observable<RealtimeTransportEvent> = this.subject.asObservable();
  /** The socket's messages reach the facade through this (it holds them back while the member's replay is on the way). */
  readonly replay: HeldReplay;
  private socketInView: string | null = null;
  private open = false;

  constructor(now: () => number) {
    this.replay = new HeldReplay((message) => this.emit({ type: 'message', message }), now);
  }

  get snapshot(): RealtimeConnectionSnapshot {
    return this.machine.snapshot;
  }

  /** The facade may write: it was told `open`, and not yet that the socket went away. */
  get writable(): boolean {
    return this.open;
  }

  /** Moves to `target`; `socket`: the owner's socket, when the target is connected. */
  show(target: MemberTarget, socket: string | null): void {
    if (this.machine.state === 'connected' && socket !== null && socket !== this.socketInView) {
      // Another socket (a new owner, or a reconnect this member did not see): re-join, as after any reconnect.
      this.leaveConnected();
      this.setState(reconnecting(0, null));
    }
    for (const step of pathTo(this.machine.snapshot, target)) {
      if (step.state === 'connected') this.enterConnected(socket);
      else if (this.machine.state === 'connected') this.leaveConnected();
      this.setState(step);
    }
  }

  emit(event: RealtimeTransportEvent): void {
    this.subject.next(event);
  }

  complete(): void {
    this.machine.complete();
    this.subject.complete();
  }

  private enterConnected(socket: string | null): void {
    this.socketInView = socket;
    this.open = true;
    // The facade re-joins its rooms, resumes and flushes its queue on `open`.
    this.replay.opening(() => this.emit({ type: 'open' }));
  }

  private leaveConnected(): void {
    this.socketInView = null;
    this.open = false;
    this.replay.closed();
  }

  private setState(next: RealtimeConnectionSnapshot): void {
    if (this.machine.transition(next)) this.emit({ type: 'state', snapshot: next });
  }
}
