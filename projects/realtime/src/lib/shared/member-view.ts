/**
 * What a member shows: the owner's connection state, told truthfully, along the same transitions a lone tab's state
 * machine allows. A member that waits for an owner (the owner's tab closed, or stopped answering, or this tab just
 * joined) shows `reconnecting` when it was connected or retrying, `connecting` otherwise; the owner's `connecting` is
 * `reconnecting` for a member that was connected (a lone tab never goes from `connected` to `connecting` either).
 */
import {
  canTransition,
  CONNECTING,
  reconnecting,
  sameSnapshot,
  type RealtimeConnectionSnapshot,
} from '../connection/connection-state';

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
