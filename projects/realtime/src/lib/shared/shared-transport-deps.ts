/**
 * What a {@link SharedTransport} is given: the collaborators it cannot make itself (so tests give it fakes), the
 * page's lifecycle, and the timing of the owner-liveness watch.
 */
import type { Observable } from 'rxjs';
import type { TokenSource } from '../connection/token-source';
import type { RealtimeTransport, RealtimeTransportLink } from '../connection/transport';
import type { MemberPresence, OwnerElection } from './owner-election';
import type { TabChannelFactory } from './tab-channel';
import type { TabMessage } from './tab-messages';

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
