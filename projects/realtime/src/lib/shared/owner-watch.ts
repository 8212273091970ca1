/**
 * The owner-liveness watch of a member that wants the connection from an owner in another tab: an owner that went
 * quiet is probed, and one that does not answer is taken over from, the owner's successors in roster order.
 */
import { BehaviorSubject, distinctUntilChanged, EMPTY, switchMap, type Observable, type Subscription } from 'rxjs';
import type { MemberGroup } from './member-group';
import type { SharedTiming } from './shared-transport-deps';

/** What the member does on this tick: probe the owner, take the socket over, or nothing. */
export type WatchStep = 'probe' | 'take-over' | null;

/** Checks on the owner at `now`, noting on `group` the probe sent or the owner given up on. */
export function checkOnOwner(group: MemberGroup, memberId: string, timing: SharedTiming, now: number): WatchStep {
  if (group.probe) {
    if (now - group.probe.at < group.probe.patience) return null;
    group.probe = null;
    group.heardAt = now;
    if (group.owner) group.floor = group.owner.term + 1;
    group.owner = null;
    return 'take-over';
  }
  if (now - group.heardAt < timing.quietMs) return null;
  group.probe = { at: now, patience: timing.answerMs * (1 + successorRank(group, memberId)) };
  return 'probe';
}

/** 0 for the first member after the owner in its roster, 1 for the next...: the order members take over in. */
function successorRank(group: MemberGroup, memberId: string): number {
  const others = (group.last?.roster ?? []).filter((entry) => entry.id !== group.last?.from && entry.wants);
  const rank = others.findIndex((entry) => entry.id === memberId);
  return rank < 0 ? others.length : rank;
}

/** The watch's clock: it ticks only while this member watches, not in the owner's tab nor in tabs that do not care. */
export class OwnerWatchClock {
  private readonly watching = new BehaviorSubject(false);
  private readonly subscription: Subscription;

  constructor(ticks$: Observable<unknown>, tick: () => void) {
    this.subscription = this.watching
      .pipe(
        distinctUntilChanged(),
        switchMap((watching) => (watching ? ticks$ : EMPTY)),
      )
      .subscribe(() => tick());
  }

  /** This member wants the connection from an owner in another tab (or from none yet): it checks on it. */
  set(watching: boolean): void {
    this.watching.next(watching);
  }

  stop(): void {
    this.subscription.unsubscribe();
    this.watching.complete();
  }
}
