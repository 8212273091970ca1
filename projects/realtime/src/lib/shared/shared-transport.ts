/**
 * A `RealtimeTransport` whose socket may live in another tab: every `RealtimeService` of the browser that shares the
 * connection is a member of its login session's group (a channel, and an owner election); the member elected owner
 * runs the one socket ({@link ConnectionOwner}), and every member, the owner's own included, talks to it over the
 * channel. The facade does not change: it still sees `open`, states, messages and errors, and writes its requests.
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
import { isRoomEvent, parseServerMessage, type ClientMessage } from '@payments-system/protocol';
import { asyncScheduler, BehaviorSubject, distinctUntilChanged, EMPTY, of, Subscription, switchMap, type Observable } from 'rxjs';
import { DISCONNECTED, type RealtimeConnectionSnapshot } from '../connection/connection-state';
import { jwtExpiry, loginSessionOf } from '../connection/jwt';
import type { TokenChange } from '../connection/token-source';
import type { RealtimeTransport, RealtimeTransportEvent, RealtimeTransportLink } from '../connection/transport';
import { correlationIds } from '../correlation-ids';
import { ConnectionOwner } from './connection-owner';
import { later } from './later-event-id';
import type { Announcement, Group } from './member-group';
import { MemberView, type MemberTarget } from './member-view';
import { checkOnOwner } from './owner-watch';
import { SerialInbox } from './serial-inbox';
import type { PageLifecycleEvent, SharedTransportDeps } from './shared-transport-deps';
import { groupName, isMemberMessage, type MemberMessage, type OwnerMessage, type TabMessage } from './tab-messages';

export class SharedTransport implements RealtimeTransport {
  private readonly view = new MemberView(() => this.now());
  readonly events$: Observable<RealtimeTransportEvent> = this.view.events$;
  private readonly subscriptions = new Subscription();
  private readonly nextId: (prefix: string) => string;

  private group: Group | null = null;
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
  private frozen = false;

  /** This member wants the connection from an owner in another tab (or from none yet): it checks on it. */
  private readonly watching = new BehaviorSubject(false);

  private readonly inbox = new SerialInbox<readonly [Group, TabMessage]>(([group, message]) => {
    if (group === this.group) this.onMessage(group, message);
  });

  constructor(
    private readonly deps: SharedTransportDeps,
    private readonly link: RealtimeTransportLink,
  ) {
    this.nextId = correlationIds(deps.random);
    // First: a session change is handled here before the owner's transport (subscribed later) sees it.
    this.subscriptions.add(deps.tokens.changes$.subscribe((change) => this.run(() => this.onTokenChanged(change))));
    this.subscriptions.add(deps.lifecycle$.subscribe((event) => this.run(() => this.onLifecycle(event))));
    // The clock ticks only while this member watches an owner: not in the owner's tab, nor in tabs that do not care.
    this.subscriptions.add(
      this.watching
        .pipe(
          distinctUntilChanged(),
          switchMap((watching) => (watching ? deps.ticks$ : EMPTY)),
        )
        .subscribe(() => this.run(() => this.onTick())),
    );
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
      if (group?.entered) this.post(group, { kind: 'reconnect', from: this.deps.memberId });
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
    this.watching.complete();
    this.view.complete();
  }

  // ------------------------------------------------------------------ the group

  private join(session: string): void {
    if (this.group || this.suspended) return;
    const name = groupName(this.deps.url, session);
    const channel = this.deps.channels(name);
    const subscriptions = new Subscription();
    const presence = this.deps.presence?.(name) ?? null;
    let group: Group | null = null;
    const election = this.deps.elect(name, (message) => {
      if (group) this.post(group, message);
    });
    group = {
      name,
      session,
      channel,
      election,
      presence,
      subscriptions,
      owner: null,
      last: null,
      floor: 0,
      local: null,
      entered: false,
      heardAt: this.now(),
      probe: null,
      maxSeen: null,
    };
    const joined: Group = group;
    this.group = joined;
    this.stopped = false;
    subscriptions.add(channel.messages$.subscribe((message) => this.dispatch(joined, message)));
    subscriptions.add(
      election.ownership$.subscribe((term) => this.run(() => (term === null ? this.deposed(joined) : this.elected(joined, term)))),
    );
    // Greet once the owner can see this member's presence (it watches it to learn when this tab is gone).
    const entered = presence ? presence.enter() : of(undefined);
    subscriptions.add(
      entered.subscribe(() =>
        this.run(() => {
          if (this.group !== joined) return;
          joined.entered = true;
          joined.heardAt = this.now();
          this.postStatus(joined);
          if (!this.frozen) joined.election.stand();
          this.updateView();
        }),
      ),
    );
    this.updateView();
  }

  /**
   * Leaves the group: says so (and gives the socket up when owning), releases the lock, closes the channel. The socket
   * is handed over unless the session is over for every tab (a sign-out, here or in another tab).
   */
  private leave(farewell: 'sign-out' | null, handOver = farewell === null): void {
    const group = this.group;
    if (!group) return;
    this.group = null;
    const from = this.deps.memberId;
    if (farewell) group.channel.post({ kind: 'sign-out', from });
    this.stepDown(group, handOver);
    group.channel.post({ kind: 'leave', from });
    group.election.destroy();
    group.presence?.exit();
    group.subscriptions.unsubscribe();
    group.channel.close();
  }

  /**
   * Gives the socket up, telling the members at once (the next owner does not wait for a timeout). `handOver`: the
   * others go on with the session (not a sign-out), so the next owner's socket follows this one.
   */
  private stepDown(group: Group, handOver: boolean): void {
    const local = group.local;
    if (!local) return;
    group.local = null;
    local.owner.destroy(handOver);
    this.post(group, { kind: 'resign', from: this.deps.memberId, term: local.term });
  }

  private elected(group: Group, term: number): void {
    if (this.group !== group || group.local) return;
    // Start from the token the group agreed on when it outlives this tab's own: one refresh serves every tab.
    const token = group.last?.token;
    if (token) this.adoptIfFresher(token);
    const owner = new ConnectionOwner(
      {
        memberId: this.deps.memberId,
        term,
        openTransport: this.deps.openTransport,
        // The token source outlives groups: a token of a previous session is not this socket's.
        tokenInUse: () => {
          const token = this.deps.tokens.inUse;
          return token !== null && loginSessionOf(token) === group.session ? token : null;
        },
        resumePoint: () => later(group.maxSeen, this.link.resumePoint()),
        post: (message) => this.post(group, message),
        nextId: this.nextId,
        now: () => this.now(),
        presence: group.presence,
        pruneAfterMs: this.deps.timing.pruneAfterMs,
      },
      group.last,
    );
    group.local = { owner, term };
    this.updateView();
  }

  /** Another member took the socket over (this one was unresponsive): stand down without a word, wait in line again. */
  private deposed(group: Group): void {
    if (this.group !== group) return;
    const local = group.local;
    group.local = null;
    local?.owner.destroy();
    if (local && group.owner?.term === local.term) {
      group.owner = null; // what it announced is over; the new owner's announcement follows
      group.floor = local.term + 1;
    }
    if (!this.frozen) group.election.stand();
    this.updateView();
  }

  // ------------------------------------------------------------------ messages

  /**
   * Posts to the other members and, through the inbox, to this one (it is a member of its own group). The owner
   * posts from its socket's events too, outside any `run()`: then this one starts the inbox.
   */
  private post(group: Group, message: TabMessage): void {
    group.channel.post(message);
    this.dispatch(group, message);
  }

  private dispatch(group: Group, message: TabMessage): void {
    this.inbox.push([group, message]);
    this.run(() => undefined);
  }

  /** Runs `work`, then every message it posted to this member, in order. */
  private run(work: () => void): void {
    this.inbox.run(work);
  }

  private onMessage(group: Group, message: TabMessage): void {
    group.election.observe(message);
    if (isMemberMessage(message)) return this.onMemberMessage(group, message);
    this.onOwnerMessage(group, message);
  }

  private onMemberMessage(group: Group, message: MemberMessage): void {
    if (message.kind === 'sign-out' && message.from !== this.deps.memberId) return this.signedOutElsewhere(group);
    group.local?.owner.onMember(message);
  }

  private onOwnerMessage(group: Group, message: OwnerMessage): void {
    const current = group.owner;
    if (message.term < group.floor || (current && message.term < current.term)) return; // an owner that was replaced
    if (current && message.term === current.term && message.from !== current.from) return; // a lost claim race
    const fresh = !current || message.term > current.term;
    if (message.kind === 'owner') {
      // Never follow an owner of another login session (the group names are hashes).
      if (message.token !== null && loginSessionOf(message.token) !== group.session) return;
      group.owner = group.last = message;
    } else if (fresh) {
      return; // an owner announces itself before anything else
    }
    group.heardAt = this.now();
    group.probe = null;
    switch (message.kind) {
      case 'owner':
        group.maxSeen = later(group.maxSeen, message.lastEventId);
        if (group.entered && (fresh || !this.synced(message))) this.postStatus(group); // greet it, or tell it again
        return this.updateView();
      case 'frame':
        return this.onFrame(group, message.frame, message.to);
      case 'error':
        if (this.wanted) this.emit({ type: 'error', error: message.error });
        return;
      case 'resign':
        group.owner = null;
        group.floor = message.term + 1;
        return this.updateView();
    }
  }

  private onFrame(group: Group, frame: string, to: readonly string[] | null): void {
    const parsed = parseServerMessage(frame);
    if (!parsed.ok) return; // the owner parsed it already: this is not a frame of this protocol version
    const message = parsed.value;
    if (isRoomEvent(message) && message.id !== undefined) group.maxSeen = later(group.maxSeen, message.id);
    if ((to !== null && !to.includes(this.deps.memberId)) || !this.view.writable) return;
    this.view.replay.receive(message);
  }

  private signedOutElsewhere(group: Group): void {
    if (this.endedSession !== group.session) {
      this.endedSession = group.session;
      this.sessionEnded();
    }
    this.leave(null, false);
    this.stopped = true;
    this.updateView();
  }

  // ------------------------------------------------------------------ this member

  private want(wants: boolean): void {
    this.wanted = wants;
    this.seq++;
    const group = this.group;
    if (group?.entered) this.postStatus(group);
  }

  private postStatus(group: Group): void {
    this.post(group, { kind: 'status', from: this.deps.memberId, seq: this.seq, wants: this.wanted });
  }

  /** The owner has seen this member's latest status. */
  private synced(owner: Announcement): boolean {
    return owner.roster.some((entry) => entry.id === this.deps.memberId && entry.seq >= this.seq && entry.wants === this.wanted);
  }

  /** The member stops receiving for a while: when it comes back, it asks for what it missed. */
  private awayFromNow(): void {
    this.view.replay.awayFromNow(this.link.resumePoint());
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
    this.emit({ type: 'session-ended' });
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
          this.stepDown(this.group, true);
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
        return this.post(group, { kind: 'probe', from: this.deps.memberId });
    }
  }

  private watches(group: Group | null): group is Group {
    return !!group?.entered && !group.local && this.wanted && !this.frozen;
  }

  private adoptIfFresher(token: string): void {
    const own = this.deps.tokens.appToken;
    if (token === own) return;
    const expires = (t: string | null | undefined) => (t ? (jwtExpiry(t) ?? 0) : 0);
    if (expires(token) > expires(own)) this.deps.tokens.adopt(token);
  }

  // ------------------------------------------------------------------ what the facade sees

  private target(): MemberTarget {
    if (!this.wanted) return DISCONNECTED;
    const group = this.group;
    if (!group) return this.stopped ? DISCONNECTED : 'waiting';
    const owner = group.owner;
    return owner && this.synced(owner) ? owner.snapshot : 'waiting';
  }

  private updateView(): void {
    this.watching.next(this.watches(this.group));
    const target = this.target();
    const socket = target !== 'waiting' && target.state === 'connected' ? (this.group?.owner?.socket ?? null) : null;
    this.view.show(target, socket);
  }

  private emit(event: RealtimeTransportEvent): void {
    this.view.emit(event);
  }

  private now(): number {
    return asyncScheduler.now();
  }
}
