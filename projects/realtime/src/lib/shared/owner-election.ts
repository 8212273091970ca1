/**
 * Who owns the socket of a group. Two implementations: {@link LockElection} (Web Locks: exactly one holder, the
 * browser releases a closed or crashed tab's lock at once) and, where Web Locks are missing (insecure contexts, older
 * browsers), {@link ChannelElection} (claims on the group's channel).
 */
import type { Observable } from 'rxjs';
import type { TabMessage } from './tab-messages';

export interface OwnerElection {
  /**
   * The term this member owns the socket from, when it becomes the owner (above every term it has seen, so members
   * follow it over any older owner); `null` when it loses ownership it did not give up (another member took over).
   */
  readonly ownership$: Observable<number | null>;
  /** Competes for ownership (waits in line); a no-op while competing or owning. */
  stand(): void;
  /** Takes ownership now from an owner that stopped answering (frozen, hung). */
  usurp(): void;
  /** Gives ownership up at once, or stops competing. */
  resign(): void;
  /** Every message of the group's channel, including this member's own (a channel election listens to claims). */
  observe(message: TabMessage): void;
  destroy(): void;
}

/** The term a new owner takes: above every term seen, and a time, so that it also orders owners nobody saw. */
export function nextTerm(highestSeen: number, now: number): number {
  return Math.max(highestSeen + 1, Math.floor(now));
}

/** Members' liveness, for the owner: who is still there. */
export interface MemberPresence {
  /** Marks this member present until `exit()`; emits once that is visible to the owner. */
  enter(): Observable<void>;
  exit(): void;
  /** Emits once when `memberId` is gone (its tab closed or crashed), without it saying goodbye. */
  gone$(memberId: string): Observable<void>;
}
