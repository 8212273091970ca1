/**
 * This member's place in the group of its login session: the group's channel, its owner election and presence, the
 * owner it follows, and the socket while it owns it ({@link ConnectionOwner}). One per session joined; closed for good.
 */
import { isRoomEvent, parseServerMessage, type ServerMessage } from '@payments-system/protocol';
import { of, Subscription } from 'rxjs';
import { jwtExpiry, loginSessionOf } from '../connection/jwt';
import { ConnectionOwner } from './connection-owner';
import { later } from './later-event-id';
import type { MemberPresence, OwnerElection } from './owner-election';
import type { SharedTransportDeps } from './shared-transport-deps';
import type { TabChannel } from './tab-channel';
import type { RealtimeError } from '../errors';
import { groupName, isMemberMessage, type MemberMessage, type OwnerMessage, type TabMessage } from './tab-messages';

export type Announcement = Extract<OwnerMessage, { kind: 'owner' }>;

/** The member a group belongs to (the {@link SharedTransport}): what the group asks of it. */
export interface GroupHost {
  readonly deps: SharedTransportDeps;
  readonly nextId: (prefix: string) => string;
  /** Between `freeze` and `resume`: never stands for ownership then. */
  readonly frozen: boolean;
  /** Runs `work` in the member's inbox (messages it posts are handled after it, in order). */
  run(work: () => void): void;
  /** Hands a message of the group to this member, through its inbox. */
  dispatch(group: MemberGroup, message: TabMessage): void;
  /** Tells the owner what this member wants (it greets the owner so, once the group can see it). */
  postStatus(group: MemberGroup): void;
  /** The owner it follows announced itself (`fresh`: an owner new to this member). */
  announced(group: MemberGroup, owner: Announcement, fresh: boolean): void;
  /** A message of the socket, for this member. */
  frame(message: ServerMessage): void;
  ownerError(error: RealtimeError): void;
  /** Another tab signed the session out. */
  signedOutElsewhere(group: MemberGroup): void;
  /** Where the facade's stream is (`link.resumePoint()`). */
  resumePoint(): string | null;
  /** Something the member shows may have changed. */
  updateView(): void;
  now(): number;
}

export class MemberGroup {
  readonly name: string;
  readonly channel: TabChannel;
  readonly election: OwnerElection;
  readonly presence: MemberPresence | null;
  private readonly memberId: string;
  private readonly subscriptions = new Subscription();
  /** The owner this member follows (its latest announcement), or `null` while waiting for one. */
  owner: Announcement | null = null;
  /** The latest announcement of any owner: a new owner starts from its roster and token. */
  last: Announcement | null = null;
  /** Owners below this term are not followed (one that stopped answering, should it wake up). */
  floor = 0;
  /** Set while this member owns the socket. */
  local: { readonly owner: ConnectionOwner; readonly term: number } | null = null;
  /** Present (its presence is visible to the owner) and greeted. */
  entered = false;
  heardAt: number;
  probe: { readonly at: number; readonly patience: number } | null = null;
  /** The newest room event id seen on the channel, whoever it was for. */
  maxSeen: string | null = null;
  private closed = false;

  constructor(
    readonly session: string,
    private readonly host: GroupHost,
  ) {
    const deps = host.deps;
    this.memberId = deps.memberId;
    this.name = groupName(deps.url, session);
    this.channel = deps.channels(this.name);
    this.presence = deps.presence?.(this.name) ?? null;
    let built = false;
    this.election = deps.elect(this.name, (message) => {
      if (built) this.post(message);
    });
    built = true;
    this.heardAt = host.now();
  }

  /**
   * Posts to the other members and, through the inbox, to this one (it is a member of its own group). The owner
   * posts from its socket's events too, outside any `run()`: then this one starts the inbox.
   */
  post(message: TabMessage): void {
    this.channel.post(message);
    this.host.dispatch(this, message);
  }

  /** Listens to the group, once the member holds it as its own (what arrives then may be handled at once). */
  start(): void {
    const host = this.host;
    this.subscriptions.add(this.channel.messages$.subscribe((message) => host.dispatch(this, message)));
    this.subscriptions.add(
      this.election.ownership$.subscribe((term) => host.run(() => (term === null ? this.deposed() : this.elected(term)))),
    );
    // Greet once the owner can see this member's presence (it watches it to learn when this tab is gone).
    const entered = this.presence ? this.presence.enter() : of(undefined);
    this.subscriptions.add(
      entered.subscribe(() =>
        host.run(() => {
          if (this.closed) return;
          this.entered = true;
          this.heardAt = host.now();
          host.postStatus(this);
          if (!host.frozen) this.election.stand();
          host.updateView();
        }),
      ),
    );
  }

  /**
   * Leaves the group: says so (and gives the socket up when owning), releases the lock, closes the channel. The socket
   * is handed over unless the session is over for every tab (a sign-out, here or in another tab).
   */
  leave(farewell: 'sign-out' | null, handOver: boolean): void {
    this.closed = true;
    const from = this.memberId;
    if (farewell) this.channel.post({ kind: 'sign-out', from });
    this.stepDown(handOver);
    this.channel.post({ kind: 'leave', from });
    this.election.destroy();
    this.presence?.exit();
    this.subscriptions.unsubscribe();
    this.channel.close();
  }

  /**
   * Gives the socket up, telling the members at once (the next owner does not wait for a timeout). `handOver`: the
   * others go on with the session (not a sign-out), so the next owner's socket follows this one.
   */
  stepDown(handOver: boolean): void {
    const local = this.local;
    if (!local) return;
    this.local = null;
    local.owner.destroy(handOver);
    this.post({ kind: 'resign', from: this.memberId, term: local.term });
  }

  /** Handles a message of the group, this member's own included, in the order they were posted. */
  receive(message: TabMessage): void {
    this.election.observe(message);
    if (isMemberMessage(message)) return this.onMemberMessage(message);
    this.onOwnerMessage(message);
  }

  private onMemberMessage(message: MemberMessage): void {
    if (message.kind === 'sign-out' && message.from !== this.memberId) return this.host.signedOutElsewhere(this);
    this.local?.owner.onMember(message);
  }

  private onOwnerMessage(message: OwnerMessage): void {
    const heard = this.heard(message);
    if (!heard) return;
    switch (message.kind) {
      case 'owner':
        this.maxSeen = later(this.maxSeen, message.lastEventId);
        return this.host.announced(this, message, heard.fresh);
      case 'frame':
        return this.onFrame(message.frame, message.to);
      case 'error':
        return this.host.ownerError(message.error);
      case 'resign':
        this.ownerGone(message.term);
        return this.host.updateView();
    }
  }

  private onFrame(frame: string, to: readonly string[] | null): void {
    const parsed = parseServerMessage(frame);
    if (!parsed.ok) return; // the owner parsed it already: this is not a frame of this protocol version
    const message = parsed.value;
    if (isRoomEvent(message) && message.id !== undefined) this.maxSeen = later(this.maxSeen, message.id);
    if (to === null || to.includes(this.memberId)) this.host.frame(message);
  }

  /**
   * Takes in a message of an owner: `null` when it is not followed (an owner that was replaced, a lost claim race,
   * another session's owner, or one not announced yet); otherwise whether its owner is new to this member.
   */
  private heard(message: OwnerMessage): { readonly fresh: boolean } | null {
    const current = this.owner;
    if (message.term < this.floor || (current && message.term < current.term)) return null; // an owner that was replaced
    if (current && message.term === current.term && message.from !== current.from) return null; // a lost claim race
    const fresh = !current || message.term > current.term;
    if (message.kind === 'owner') {
      // Never follow an owner of another login session (the group names are hashes).
      if (message.token !== null && loginSessionOf(message.token) !== this.session) return null;
      this.owner = this.last = message;
    } else if (fresh) {
      return null; // an owner announces itself before anything else
    }
    this.heardAt = this.host.now();
    this.probe = null;
    return { fresh };
  }

  /** The owner of `term` is over: wait for the next one, and never follow it again. */
  private ownerGone(term: number): void {
    this.owner = null;
    this.floor = term + 1;
  }

  private elected(term: number): void {
    if (this.closed || this.local) return;
    const { deps, nextId } = this.host;
    // Start from the token the group agreed on when it outlives this tab's own: one refresh serves every tab.
    const token = this.last?.token;
    if (token) this.adoptIfFresher(token);
    const owner = new ConnectionOwner(
      {
        memberId: this.memberId,
        term,
        openTransport: deps.openTransport,
        // The token source outlives groups: a token of a previous session is not this socket's.
        tokenInUse: () => {
          const token = deps.tokens.inUse;
          return token !== null && loginSessionOf(token) === this.session ? token : null;
        },
        resumePoint: () => later(this.maxSeen, this.host.resumePoint()),
        post: (message) => this.post(message),
        nextId,
        now: () => this.host.now(),
        presence: this.presence,
        pruneAfterMs: deps.timing.pruneAfterMs,
      },
      this.last,
    );
    this.local = { owner, term };
    this.host.updateView();
  }

  /** Another member took the socket over (this one was unresponsive): stand down without a word, wait in line again. */
  private deposed(): void {
    if (this.closed) return;
    const local = this.local;
    this.local = null;
    local?.owner.destroy();
    // What it announced is over; the new owner's announcement follows.
    if (local && this.owner?.term === local.term) this.ownerGone(local.term);
    if (!this.host.frozen) this.election.stand();
    this.host.updateView();
  }

  private adoptIfFresher(token: string): void {
    const tokens = this.host.deps.tokens;
    const own = tokens.appToken;
    if (token === own) return;
    const expires = (t: string | null | undefined) => (t ? (jwtExpiry(t) ?? 0) : 0);
    if (expires(token) > expires(own)) tokens.adopt(token);
  }
}
