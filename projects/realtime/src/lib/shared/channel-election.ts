/**
 * Ownership without Web Locks (insecure contexts such as `http://` on a LAN address, Firefox before 96): claims on
 * the group's channel. A member that stands waits `settleMs` for an owner to show itself (an owner answers every
 * member's status); if none does, it claims a term above every term it has seen and owns it when no better claim
 * (a higher term, or the same term from a lower member id) arrived within `settleMs`. A higher claim always wins,
 * which is how a member takes over from an owner that stopped answering; an owner that hears a better claim or an
 * owner of a better term stands down.
 *
 * Weaker than locks: a closed tab says `resign` on `pagehide`, but a crashed owner is noticed only when it stops
 * answering probes, and two claims racing through a busy channel may briefly make two owners (the lower term then
 * stands down when it hears the other).
 */
import { Subject, timer, type Subscription } from 'rxjs';
import { nextTerm, type OwnerElection } from './owner-election';
import { isMemberMessage, type TabMessage } from './tab-messages';

export interface ChannelElectionDeps {
  readonly memberId: string;
  readonly post: (message: TabMessage) => void;
  /** How long a claim, and a member that just stood, wait for an answer. */
  readonly settleMs: number;
  readonly now: () => number;
}

/** `a` beats `b`: a higher term, or the same term and a lower member id. */
function beats(aTerm: number, aId: string, bTerm: number, bId: string): boolean {
  return aTerm > bTerm || (aTerm === bTerm && aId < bId);
}

export class ChannelElection implements OwnerElection {
  private readonly ownership = new Subject<number | null>();
  readonly ownership$ = this.ownership.asObservable();
  private standing = false;
  private owning: number | null = null;
  private highestTerm = 0;
  /** Waiting, after standing, for an owner to show itself. */
  private waitForOwner: Subscription | null = null;
  private claim: { readonly term: number; readonly timer: Subscription } | null = null;
  /** When another member's claim was last heard: while it may still win, this one does not claim over it. */
  private otherClaimAt = -Infinity;

  constructor(private readonly deps: ChannelElectionDeps) {}

  stand(): void {
    if (this.standing) return;
    this.standing = true;
    if (this.owning !== null || this.claim) return;
    this.waitForOwner = timer(this.deps.settleMs).subscribe(() => {
      this.waitForOwner = null;
      this.startClaim();
    });
  }

  usurp(): void {
    if (this.owning === null && !this.waitForOwner) this.startClaim();
  }

  resign(): void {
    this.standing = false;
    this.owning = null;
    this.cancelWaits();
  }

  observe(message: TabMessage): void {
    if (message.from === this.deps.memberId) return;
    if (message.kind === 'claim') return this.onClaim(message.from, message.term);
    if (isMemberMessage(message)) return;
    this.highestTerm = Math.max(this.highestTerm, message.term);
    if (this.owning !== null && beats(message.term, message.from, this.owning, this.deps.memberId)) return this.deposed();
    // An owner exists: no need to claim, unless we claim over it (a term it has not reached).
    this.waitForOwner?.unsubscribe();
    this.waitForOwner = null;
    if (this.claim && message.term >= this.claim.term) this.cancelWaits();
    if (message.kind === 'resign' && this.standing && this.owning === null) this.startClaim();
  }

  destroy(): void {
    this.resign();
    this.ownership.complete();
  }

  private onClaim(from: string, term: number): void {
    this.highestTerm = Math.max(this.highestTerm, term);
    this.otherClaimAt = this.deps.now();
    if (this.owning !== null) {
      if (beats(term, from, this.owning, this.deps.memberId)) this.deposed();
      return;
    }
    if (this.claim && beats(term, from, this.claim.term, this.deps.memberId)) this.cancelWaits();
  }

  private startClaim(): void {
    if (!this.standing || this.claim || this.owning !== null) return;
    if (this.deps.now() - this.otherClaimAt < 2 * this.deps.settleMs) {
      // Another member is claiming: its owner announcement cancels this wait; if none comes, claim then.
      this.waitForOwner = timer(this.deps.settleMs).subscribe(() => {
        this.waitForOwner = null;
        this.startClaim();
      });
      return;
    }
    const term = nextTerm(this.highestTerm, this.deps.now());
    this.highestTerm = term;
    this.deps.post({ kind: 'claim', from: this.deps.memberId, term });
    this.claim = {
      term,
      timer: timer(this.deps.settleMs).subscribe(() => {
        this.claim = null;
        if (!this.standing) return;
        this.owning = term;
        this.ownership.next(term);
      }),
    };
  }

  private deposed(): void {
    this.owning = null;
    this.standing = false;
    this.ownership.next(null);
  }

  private cancelWaits(): void {
    this.waitForOwner?.unsubscribe();
    this.waitForOwner = null;
    this.claim?.timer.unsubscribe();
    this.claim = null;
  }
}
