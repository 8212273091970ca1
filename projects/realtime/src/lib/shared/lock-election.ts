/**
 * Ownership and presence on Web Locks (`navigator.locks`). The owner holds `<group>:owner` for as long as it owns;
 * the other members wait for it in the lock's queue, so that when the owner's tab closes or crashes the browser
 * grants the lock to the next one at once. A frozen owner keeps its lock: a member that finds it unresponsive takes
 * the lock with `steal`, and the old owner's lock request then rejects, which is how it learns, when it wakes, that
 * it must stand down. Each member also holds `<group>:member:<id>` while in the group; the owner queues for it to
 * learn when a member's tab is gone.
 */
import { Observable, Subject } from 'rxjs';
import { nextTerm, type MemberPresence, type OwnerElection } from './owner-election';
import { isMemberMessage, type TabMessage } from './tab-messages';

/** The part of the `LockManager` (`navigator.locks`) used here; a fake in tests. */
export interface LockManagerLike {
  request(
    name: string,
    options: { readonly steal?: boolean; readonly signal?: AbortSignal },
    callback: (lock: unknown) => unknown,
  ): Promise<unknown>;
}

export class LockElection implements OwnerElection {
  private readonly ownership = new Subject<number | null>();
  readonly ownership$ = this.ownership.asObservable();
  /** The request waiting in line; aborted to leave the line. */
  private waiting: AbortController | null = null;
  /** Held ownership: `release` gives the lock back. */
  private held: { readonly release: () => void; readonly ticket: object } | null = null;
  /** Bumped by `resign()`: a request granted after it gives the lock straight back. */
  private generation = 0;
  private highestTerm = 0;

  constructor(
    private readonly locks: LockManagerLike,
    private readonly name: string,
    private readonly now: () => number,
  ) {}

  stand(): void {
    if (this.waiting || this.held) return;
    const abort = new AbortController();
    this.waiting = abort;
    this.request({ signal: abort.signal }, () => this.waiting === abort);
  }

  usurp(): void {
    if (this.held) return;
    this.waiting?.abort();
    this.waiting = null;
    this.request({ steal: true }, () => true); // `steal` cannot be combined with `signal`
  }

  resign(): void {
    this.generation++;
    this.waiting?.abort();
    this.waiting = null;
    const held = this.held;
    this.held = null;
    held?.release();
  }

  /** The lock decides who owns; messages only tell which terms exist. */
  observe(message: TabMessage): void {
    if (!isMemberMessage(message)) this.highestTerm = Math.max(this.highestTerm, message.term);
  }

  destroy(): void {
    this.resign();
    this.ownership.complete();
  }

  private request(options: { steal?: boolean; signal?: AbortSignal }, wanted: () => boolean): void {
    const ticket = {};
    const generation = this.generation;
    this.locks
      .request(this.name, options, () => {
        if (generation !== this.generation || !wanted()) return undefined; // resigned meanwhile: give it back
        this.waiting = null;
        return new Promise<void>((release) => {
          this.held = { release, ticket };
          this.highestTerm = nextTerm(this.highestTerm, this.now());
          this.ownership.next(this.highestTerm);
        });
      })
      .then(
        () => undefined,
        () => {
          // Aborted while waiting (we left the line), or taken over while held: only the latter matters.
          if (this.held?.ticket !== ticket) return;
          this.held = null;
          this.ownership.next(null);
        },
      );
  }
}

export class LockPresence implements MemberPresence {
  private release: (() => void) | null = null;

  constructor(
    private readonly locks: LockManagerLike,
    private readonly group: string,
    private readonly memberId: string,
  ) {}

  enter(): Observable<void> {
    return new Observable<void>((subscriber) => {
      if (this.release) {
        subscriber.next();
        subscriber.complete();
        return undefined;
      }
      let cancelled = false;
      this.locks
        .request(this.lockName(this.memberId), {}, () => {
          if (cancelled) return undefined;
          return new Promise<void>((release) => {
            this.release = release;
            subscriber.next();
            subscriber.complete();
          });
        })
        .catch(() => undefined);
      return () => {
        if (!this.release) cancelled = true;
      };
    });
  }

  exit(): void {
    const release = this.release;
    this.release = null;
    release?.();
  }

  gone$(memberId: string): Observable<void> {
    return new Observable<void>((subscriber) => {
      const abort = new AbortController();
      this.locks
        .request(this.lockName(memberId), { signal: abort.signal }, () => {
          subscriber.next();
          subscriber.complete();
          return undefined; // released at once: we only wanted to know
        })
        .catch(() => undefined); // aborted: nobody watches any more
      return () => abort.abort();
    });
  }

  private lockName(memberId: string): string {
    return `${this.group}:member:${memberId}`;
  }
}
