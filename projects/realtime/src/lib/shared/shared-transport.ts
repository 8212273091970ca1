/**
 * A `RealtimeTransport` whose socket may live in another tab: every `RealtimeService` of the browser that shares the
 * connection is a member of its login session's group ({@link MemberGroup}: a channel, and an owner election); the
 * member elected owner runs the one socket (a `ConnectionOwner`), and every member, the owner's own included, talks to
 * it over the channel. The facade does not change: it still sees `open`, states, messages and errors, and writes its
 * requests.
 *
 * Hand-over: the owner's tab closes (it resigns on `pagehide`) or crashes (the browser releases its lock): the next
 * member in line owns at once. It is frozen or hung (its lock stays held): a member that wants the connection and
 * heard nothing for `quietMs` probes it, and takes over when no answer came within `answerMs`; the old owner, if it
 * wakes up, learns it lost the lock and stands down. The new socket resumes from the newest event id any member saw.
 *
 * Sessions: a group is one login session (`loginSessionOf` of the token), so a tab never shares another user's socket.
 * A tab whose token becomes empty signs the whole session out: every member hears `sign-out`, emits `session-ended`
 * and stops until its own token changes.
 */
import type { ClientMessage, ServerMessage } from '@payments-system/protocol';
import { asyncScheduler, Subscription, type Observable } from 'rxjs';
import { DISCONNECTED, type RealtimeConnectionSnapshot } from '../connection/connection-state';
import { loginSessionOf } from '../connection/jwt';
import type { TokenChange } from '../connection/token-source';
import type { RealtimeTransport, RealtimeTransportEvent, RealtimeTransportLink } from '../connection/transport';
import { correlationIds } from '../correlation-ids';
import type { RealtimeError } from '../errors';
import { MemberGroup, type Announcement, type GroupHost } from './member-group';
import { MemberView, type MemberTarget } from './member-view';
import { checkOnOwner, OwnerWatchClock } from './owner-watch';
import { SerialInbox } from './serial-inbox';
import type { PageLifecycleEvent, SharedTransportDeps } from './shared-transport-deps';
import type { TabMessage } from './tab-messages';

/** The facade's transport, and the host its {@link MemberGroup} calls back (the members under "the group's host"). */
export class SharedTransport implements RealtimeTransport, GroupHost {
  private readonly view = new MemberView(() => this.now());
  readonly events$: Observable<RealtimeTransportEvent> = this.view.events$;
  private readonly subscriptions = new Subscription();
  private readonly watch: OwnerWatchClock;
  readonly nextId: (prefix: string) => string;

  private group: MemberGroup | null = null;
  /** The app's login session (`loginSessionOf` its token), `null` while signed out. */
  private session: string | null = null;
  /** A session that was signed out (here or in another tab) and already reported: not joined again as it is. */
  private endedSession: string | null = null;
  private wanted = false;
  /** Bumped on each change of `wanted`: the owner's roster says which one it has seen. */
  private seq = 0;
  /** Signed out: `disconnected` until a token arrives (otherwise the state waits for a group, `connecting`). */
  private stopped = false;
  /** Between `pagehide` and `pageshow`. */
  private suspended = false;
  /** Between `freeze` and `resume`: never stands for ownership then. */
  frozen = false;

  private readonly inbox = new SerialInbox<readonly [MemberGroup, TabMessage]>(([group, message]) => {
    if (group === this.group) group.receive(message);
  });

  constructor(
    readonly deps: SharedTransportDeps,
    private readonly link: RealtimeTransportLink,
  ) {
    // Before anything can update the view (which sets the clock going).
    this.watch = new OwnerWatchClock(deps.ticks$, () => this.run(() => this.onTick()));
    this.nextId = correlationIds(deps.random);
    // First: a session change is handled here before the owner's transport (subscribed later) sees it.
    this.subscriptions.add(deps.tokens.changes$.subscribe((change) => this.run(() => this.onTokenChanged(change))));
    this.subscriptions.add(deps.lifecycle$.subscribe((event) => this.run(() => this.onLifecycle(event))));
    const token = deps.tokens.appToken;
    if (token) {
      this.session = loginSessionOf(token);
      this.run(() => this.join(this.session!));
    }
  }

  get snapshot(): RealtimeConnectionSnapshot {
    return this.view.snapshot;
  }

  connect(): void {
    this.run(() => {
      if (this.wanted && this.view.snapshot.state !== 'disconnected') return; // a no-op while connecting or connected
      this.want(true);
      this.updateView();
    });
  }

  reconnect(): void {
    this.run(() => {
      this.want(true);
      const group = this.group;
      if (group?.entered) group.post({ kind: 'reconnect', from: this.deps.memberId });
      this.updateView();
    });
  }

  disconnect(): void {
    this.run(() => {
      if (this.wanted) this.awayFromNow();
      this.want(false);
      this.updateView();
    });
  }

  write(message: ClientMessage): boolean {
    const group = this.group;
    if (!group || !this.view.writable) return false;
    const replay = this.view.replay.asks(message);
    const write: TabMessage = { kind: 'write', from: this.deps.memberId, frame: JSON.stringify(message), replay };
    group.channel.post(write);
    this.inbox.push([group, write]);
    // Never answered before write() returns (the facade registers its request after writing it), even by this tab.
    if (!this.inbox.busy) queueMicrotask(() => this.run(() => undefined));
    return true;
  }

  destroy(): void {
    this.run(() => {
      this.leave(null);
      this.wanted = false;
      this.updateView();
    });
    this.subscriptions.unsubscribe();
    this.watch.stop();
    this.view.complete();
  }

  // ------------------------------------------------------------------ the group

  private join(session: string): void {
    if (this.group || this.suspended) return;
    const group = new MemberGroup(session, this);
    this.group = group;
    this.stopped = false;
    group.start();
    this.updateView();
  }

  private leave(farewell: 'sign-out' | null, handOver = farewell === null): void {
    const group = this.group;
    if (!group) return;
    this.group = null;
    group.leave(farewell, handOver);
  }

  // ------------------------------------------------------------------ this member

  private want(wants: boolean): void {
    this.wanted = wants;
    this.seq++;
    const group = this.group;
    if (group?.entered) this.postStatus(group);
  }

  /** The owner has seen this member's latest status. */
  private synced(owner: Announcement): boolean {
    return owner.roster.some((entry) => entry.id === this.deps.memberId && entry.seq >= this.seq && entry.wants === this.wanted);
  }

  /** The member stops receiving for a while: when it comes back, it asks for what it missed. */
  private awayFromNow(): void {
    this.view.replay.awayFromNow(this.resumePoint());
  }

  private onTokenChanged({ token, sessionEnded }: TokenChange): void {
    if (sessionEnded && this.endedSession !== this.session) this.sessionEnded();
    const session = token ? loginSessionOf(token) : null;
    if (session === null) {
      // Signed out here: the session is over for every tab of it.
      this.leave('sign-out');
      this.stopped = true;
    } else if (session !== this.session || session === this.endedSession || !this.group) {
      this.leave(null);
      this.session = session;
      this.endedSession = null;
      this.join(session);
    }
    this.session = session;
    if (session === null) this.endedSession = null;
    this.updateView();
  }

  private sessionEnded(): void {
    this.view.replay.forget();
    this.view.emit({ type: 'session-ended' });
  }

  private onLifecycle(event: PageLifecycleEvent): void {
    switch (event.type) {
      case 'pagehide':
        // The tab is going (or into the back-forward cache): hand the socket over at once.
        if (this.wanted) this.awayFromNow();
        this.suspended = true;
        this.leave(null);
        break;
      case 'pageshow':
        if (!this.suspended) return;
        this.suspended = false;
        if (this.session !== null && this.session !== this.endedSession) this.join(this.session);
        break;
      case 'freeze':
        // About to be frozen: give the socket up now rather than be found unresponsive.
        this.frozen = true;
        if (this.group) {
          this.group.stepDown(true);
          this.group.election.resign();
        }
        break;
      case 'resume':
        this.frozen = false;
        if (this.group?.entered) this.group.election.stand();
        break;
    }
    this.updateView();
  }

  /** Probes an owner that went quiet, and takes over from one that does not answer. */
  private onTick(): void {
    const group = this.group;
    if (!group || !this.watches(group)) return;
    switch (checkOnOwner(group, this.deps.memberId, this.deps.timing, this.now())) {
      case 'take-over':
        group.election.usurp();
        return this.updateView();
      case 'probe':
        return group.post({ kind: 'probe', from: this.deps.memberId });
    }
  }

  private watches(group: MemberGroup | null): group is MemberGroup {
    return !!group?.entered && !group.local && this.wanted && !this.frozen;
  }

  // ------------------------------------------------------------------ what the facade sees

  private target(): MemberTarget {
    if (!this.wanted) return DISCONNECTED;
    const group = this.group;
    if (!group) return this.stopped ? DISCONNECTED : 'waiting';
    const owner = group.owner;
    return owner && this.synced(owner) ? owner.snapshot : 'waiting';
  }

  // ------------------------------------------------------------------ the group's host (MemberGroup calls these too)

  /** Runs `work`, then every message it posted to this member, in order. */
  run(work: () => void): void {
    this.inbox.run(work);
  }

  dispatch(group: MemberGroup, message: TabMessage): void {
    this.inbox.push([group, message]);
    this.run(() => undefined);
  }

  postStatus(group: MemberGroup): void {
    group.post({ kind: 'status', from: this.deps.memberId, seq: this.seq, wants: this.wanted });
  }

  announced(group: MemberGroup, owner: Announcement, fresh: boolean): void {
    if (group.entered && (fresh || !this.synced(owner))) this.postStatus(group); // greet it, or tell it again
    this.updateView();
  }

  frame(message: ServerMessage): void {
    if (this.view.writable) this.view.replay.receive(message);
  }

  ownerError(error: RealtimeError): void {
    if (this.wanted) this.view.emit({ type: 'error', error });
  }

  signedOutElsewhere(group: MemberGroup): void {
    if (this.endedSession !== group.session) {
      this.endedSession = group.session;
      this.sessionEnded();
    }
    this.leave(null, false);
    this.stopped = true;
    this.updateView();
  }

  resumePoint(): string | null {
    return this.link.resumePoint();
  }

  updateView(): void {
    this.watch.set(this.watches(this.group));
    const target = this.target();
    const socket = target !== 'waiting' && target.state === 'connected' ? (this.group?.owner?.socket ?? null) : null;
    this.view.show(target, socket);
  }

  now(): number {
    return asyncScheduler.now();
  }
}
