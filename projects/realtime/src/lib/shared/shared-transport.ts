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
import {
  compareEventIds,
  isRoomEvent,
  parseServerMessage,
  type ClientMessage,
  type RoomEvent,
  type ServerMessage,
} from '@payments-system/protocol';
import { asyncScheduler, BehaviorSubject, distinctUntilChanged, EMPTY, of, Subject, Subscription, switchMap, type Observable } from 'rxjs';
import { ConnectionStateMachine, DISCONNECTED, reconnecting, type RealtimeConnectionSnapshot } from '../connection/connection-state';
import { jwtExpiry, loginSessionOf } from '../connection/jwt';
import type { TokenChange, TokenSource } from '../connection/token-source';
import type { RealtimeTransport, RealtimeTransportEvent, RealtimeTransportLink } from '../connection/transport';
import { correlationIds } from '../correlation-ids';
import { ConnectionOwner } from './connection-owner';
import { later } from './later-event-id';
import { pathTo, type MemberTarget } from './member-view';
import type { MemberPresence, OwnerElection } from './owner-election';
import type { TabChannel, TabChannelFactory } from './tab-channel';
import { groupName, isMemberMessage, type MemberMessage, type OwnerMessage, type TabMessage } from './tab-messages';

export type PageLifecycleEvent =
  | { readonly type: 'pagehide' | 'freeze' | 'resume' }
  | { readonly type: 'pageshow'; readonly persisted: boolean };

export interface SharedTiming {
  /** A member that wants the connection and heard nothing from the owner for this long asks it (`probe`). */
  readonly quietMs: number;
  /**
   * It takes over when no answer came within this; the next member in the owner's roster waits twice as long, the one
   * after it three times, and so on: the first that is awake takes over, and the others hear it before their turn.
   */
  readonly answerMs: number;
  /** How often a member checks. */
  readonly tickMs: number;
  /** Without Web Locks: the previous owner's members that do not greet a new owner within this are dropped. */
  readonly pruneAfterMs: number;
  /** Without Web Locks: how long a claim waits for a better one. */
  readonly settleMs: number;
}

/** A frozen or hung owner is replaced by its first successor within quietMs + answerMs + 2 · tickMs: 1.75 s. */
export const SHARED_TIMING: SharedTiming = { quietMs: 600, answerMs: 750, tickMs: 200, pruneAfterMs: 5000, settleMs: 150 };

export interface SharedTransportDeps {
  /** The gateway URL as configured (part of the group's name). */
  readonly url: string;
  readonly memberId: string;
  readonly tokens: TokenSource;
  /** Opens the socket-owning transport (the WebSocket one, on `tokens`) when this member is elected. */
  readonly openTransport: (link: RealtimeTransportLink) => RealtimeTransport;
  readonly channels: TabChannelFactory;
  /** The owner election of a group (Web Locks, or claims on the channel). */
  readonly elect: (group: string, post: (message: TabMessage) => void) => OwnerElection;
  /** Members' liveness for a group (Web Locks), or `null`. */
  readonly presence: ((group: string) => MemberPresence) | null;
  readonly lifecycle$: Observable<PageLifecycleEvent>;
  /** Emits every `timing.tickMs`. */
  readonly ticks$: Observable<unknown>;
  readonly timing: SharedTiming;
  readonly random: () => number;
}

type Announcement = Extract<OwnerMessage, { kind: 'owner' }>;

/** Live events a member holds while its replay is on the way; past it, the replay is given up (`recovery:failed`). */
export const MAX_HELD_EVENTS = 5000;

interface Group {
  readonly name: string;
  readonly session: string;
  readonly channel: TabChannel;
  readonly election: OwnerElection;
  readonly presence: MemberPresence | null;
  readonly subscriptions: Subscription;
  /** The owner this member follows (its latest announcement), or `null` while waiting for one. */
  owner: Announcement | null;
  /** The latest announcement of any owner: a new owner starts from its roster and token. */
  last: Announcement | null;
  /** Owners below this term are not followed (one that stopped answering, should it wake up). */
  floor: number;
  /** Set while this member owns the socket. */
  local: { readonly owner: ConnectionOwner; readonly term: number } | null;
  /** Present (its presence is visible to the owner) and greeted. */
  entered: boolean;
  heardAt: number;
  probe: { readonly at: number; readonly patience: number } | null;
  /** The newest room event id seen on the channel, whoever it was for. */
  maxSeen: string | null;
}

export class SharedTransport implements RealtimeTransport {
  private readonly machine = new ConnectionStateMachine();
  private readonly subject = new Subject<RealtimeTransportEvent>();
  readonly events$: Observable<RealtimeTransportEvent> = this.subject.asObservable();
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
  /** The facade may write: it was told `open`, and not yet that the socket went away. */
  private writable = false;
  private socketInView: string | null = null;
  /** The member was away (disconnected, its page hidden): its next `resume` asks the gateway for a replay. */
  private needsReplay = false;
  /** Room events held back until the member's replay is answered, so that none overtakes the replay. */
  private holding: { correlationId: string | null; since: string | null; readonly events: RoomEvent[] } | null = null;

  /** This member wants the connection from an owner in another tab (or from none yet): it checks on it. */
  private readonly watching = new BehaviorSubject(false);

  private readonly inbox: Array<readonly [Group, TabMessage]> = [];
  private running = false;

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
    return this.machine.snapshot;
  }

  connect(): void {
    this.run(() => {
      if (this.wanted && this.machine.state !== 'disconnected') return; // a no-op while connecting or connected
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
    if (!group || !this.writable) return false;
    let replay = false;
    if (message.type === 'resume' && this.holding && message.correlationId !== undefined) {
      this.holding.correlationId = message.correlationId;
      this.holding.since = message.payload.since ?? null; // none: it asks for its position
      replay = true;
    }
    const write: TabMessage = { kind: 'write', from: this.deps.memberId, frame: JSON.stringify(message), replay };
    group.channel.post(write);
    this.inbox.push([group, write]);
    // Never answered before write() returns (the facade registers its request after writing it), even by this tab.
    if (!this.running) queueMicrotask(() => this.run(() => undefined));
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
    this.machine.complete();
    this.subject.complete();
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

  /** Runs `work`, then every message it posted to this member, in order: nothing is handled re-entrantly. */
  private run(work: () => void): void {
    if (this.running) return work();
    this.running = true;
    try {
      work();
      for (let next = this.inbox.shift(); next; next = this.inbox.shift()) {
        const [group, message] = next;
        if (group === this.group) this.onMessage(group, message);
      }
    } finally {
      this.running = false;
    }
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
    const event = isRoomEvent(message) ? message : null;
    if (event?.id !== undefined) group.maxSeen = later(group.maxSeen, event.id);
    if ((to !== null && !to.includes(this.deps.memberId)) || !this.writable) return;
    const holding = this.holding;
    if (holding && holding.correlationId !== null && message.correlationId === holding.correlationId) return this.release(message);
    if (holding && event) {
      if (holding.events.length < MAX_HELD_EVENTS || holding.since === null) return void holding.events.push(event);
      // The replay takes too long for what keeps coming: give it up as the gateway would, and let the app reload.
      const payload = { since: holding.since, reason: 'too-many' as const };
      this.release({ type: 'recovery:failed', payload, timestamp: new Date(this.now()).toISOString() });
    }
    this.emit({ type: 'message', message });
  }

  /** The member's replay was answered: the events held meanwhile follow in order (the facade drops duplicates). */
  private release(reply: ServerMessage | null): void {
    const events = this.holding?.events ?? [];
    this.holding = null;
    this.needsReplay = false;
    events.sort((a, b) => compareEventIds(a.id ?? '0-0', b.id ?? '0-0'));
    for (const message of events) this.emit({ type: 'message', message });
    if (reply) this.emit({ type: 'message', message: reply });
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
    if (this.link.resumePoint() !== null) this.needsReplay = true;
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
    this.needsReplay = false;
    this.holding = null;
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
    const now = this.now();
    if (group.probe) {
      if (now - group.probe.at < group.probe.patience) return;
      group.probe = null;
      group.heardAt = now;
      if (group.owner) group.floor = group.owner.term + 1;
      group.owner = null;
      group.election.usurp();
      return this.updateView();
    }
    if (now - group.heardAt < this.deps.timing.quietMs) return;
    group.probe = { at: now, patience: this.deps.timing.answerMs * (1 + this.successorRank(group)) };
    this.post(group, { kind: 'probe', from: this.deps.memberId });
  }

  private watches(group: Group | null): group is Group {
    return !!group?.entered && !group.local && this.wanted && !this.frozen;
  }

  /** 0 for the first member after the owner in its roster, 1 for the next...: the order members take over in. */
  private successorRank(group: Group): number {
    const others = (group.last?.roster ?? []).filter((entry) => entry.id !== group.last?.from && entry.wants);
    const rank = others.findIndex((entry) => entry.id === this.deps.memberId);
    return rank < 0 ? others.length : rank;
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

  private enterConnected(socket: string | null): void {
    this.socketInView = socket;
    this.writable = true;
    if (this.needsReplay) this.holding = { correlationId: null, since: null, events: [] };
    this.emit({ type: 'open' }); // the facade re-joins its rooms, resumes and flushes its queue now
    if (this.holding?.correlationId === null) this.release(null); // it had nothing to resume from
  }

  private leaveConnected(): void {
    this.socketInView = null;
    this.writable = false;
    this.holding = null; // an unanswered replay is asked again on the next socket (`needsReplay` stays)
  }

  private setState(next: RealtimeConnectionSnapshot): void {
    if (this.machine.transition(next)) this.emit({ type: 'state', snapshot: next });
  }

  private emit(event: RealtimeTransportEvent): void {
    this.subject.next(event);
  }

  private now(): number {
    return asyncScheduler.now();
  }
}
