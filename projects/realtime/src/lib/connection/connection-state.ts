/**
 * The connection's state machine: its states and every allowed transition, written down once (the README's
 * diagram draws this table). The machine emits only real changes and refuses a transition the table does
 * not list: that is a bug in the caller, so it throws rather than drift into a state nobody designed.
 */
import { BehaviorSubject, type Observable } from 'rxjs';

/** Connection state; see the state diagram in the README. */
export type RealtimeConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

/** One consistent view of the connection, emitted on every change. */
export interface RealtimeConnectionSnapshot {
  readonly state: RealtimeConnectionState;
  /** The retry in progress or scheduled (1-based); 0 while connected or before the first failure. */
  readonly attempt: number;
  /** Epoch ms of the next scheduled retry, or `null` when none is scheduled (show "reconnecting in 8 s"). */
  readonly nextRetryAt: number | null;
}

/**
 * Where each state may go.
 * - `disconnected → connecting`: connect(), reconnect(), a token arriving, the browser going back online.
 * - `connecting | reconnecting → connected`: a socket opened.
 * - `connecting | connected → reconnecting`: a socket failed or closed and the policy retries, or reconnect().
 * - `reconnecting → reconnecting`: the attempt number or the next retry time changed.
 * - any other state `→ disconnected`: disconnect(), a logout, a final close (4003, 1000), an auth failure, giving up.
 */
export const CONNECTION_TRANSITIONS: { readonly [S in RealtimeConnectionState]: readonly RealtimeConnectionState[] } = {
  disconnected: ['connecting'],
  connecting: ['connected', 'reconnecting', 'disconnected'],
  connected: ['reconnecting', 'disconnected'],
  reconnecting: ['reconnecting', 'connected', 'disconnected'],
};

export function canTransition(from: RealtimeConnectionState, to: RealtimeConnectionState): boolean {
  return CONNECTION_TRANSITIONS[from].includes(to);
}

export const DISCONNECTED: RealtimeConnectionSnapshot = Object.freeze({ state: 'disconnected', attempt: 0, nextRetryAt: null });
export const CONNECTING: RealtimeConnectionSnapshot = Object.freeze({ state: 'connecting', attempt: 0, nextRetryAt: null });
export const CONNECTED: RealtimeConnectionSnapshot = Object.freeze({ state: 'connected', attempt: 0, nextRetryAt: null });

export function reconnecting(attempt: number, nextRetryAt: number | null = null): RealtimeConnectionSnapshot {
  return { state: 'reconnecting', attempt, nextRetryAt };
}

export function sameSnapshot(a: RealtimeConnectionSnapshot, b: RealtimeConnectionSnapshot): boolean {
  return a.state === b.state && a.attempt === b.attempt && a.nextRetryAt === b.nextRetryAt;
}

/** Holds the current snapshot; `changes$` replays it and then emits each real change. */
export class ConnectionStateMachine {
  private readonly subject = new BehaviorSubject<RealtimeConnectionSnapshot>(DISCONNECTED);
  readonly changes$: Observable<RealtimeConnectionSnapshot> = this.subject.asObservable();

  get snapshot(): RealtimeConnectionSnapshot {
    return this.subject.value;
  }

  get state(): RealtimeConnectionState {
    return this.subject.value.state;
  }

  /** Moves to `next`. Returns `false` (and emits nothing) when nothing changes; throws on a transition the table forbids. */
  transition(next: RealtimeConnectionSnapshot): boolean {
    const current = this.subject.value;
    if (sameSnapshot(current, next)) return false;
    if (!canTransition(current.state, next.state)) {
      throw new Error(`realtime: illegal connection transition ${current.state} → ${next.state}`);
    }
    this.subject.next(next);
    return true;
  }

  complete(): void {
    this.subject.complete();
  }
}
