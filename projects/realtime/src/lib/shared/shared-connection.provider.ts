/**
 * Angular wiring of `withSharedConnection()`: which mechanism this browser gets.
 *
 * - `BroadcastChannel` and Web Locks (every current browser, on `https:` or `localhost`): a leader tab, elected
 *   with a lock, owns the socket.
 * - `BroadcastChannel` without Web Locks (insecure origins such as `http://` on a LAN address, Firefox 38–95): the
 *   leader is elected with claims on the channel ({@link ChannelElection}).
 * - No `BroadcastChannel` (Safari before 15.4), and the server platform: one socket per tab, as without the feature.
 */
import { DOCUMENT, isPlatformServer } from '@angular/common';
import { inject, InjectionToken, PLATFORM_ID } from '@angular/core';
import { asyncScheduler, EMPTY, fromEvent, interval, map, merge, type Observable } from 'rxjs';
import { ɵREALTIME_CONFIG, ɵREALTIME_RANDOM } from '../config';
import type { RealtimeTransportFactory } from '../connection/transport';
import { webSocketTransportMaker } from '../connection/web-socket-transport.provider';
import { ChannelElection } from './channel-election';
import { LockElection, LockPresence, type LockManagerLike } from './lock-election';
import { SharedTransport } from './shared-transport';
import { SHARED_TIMING, type PageLifecycleEvent, type SharedTiming } from './shared-transport-deps';
import { broadcastTabChannels, type TabChannelFactory } from './tab-channel';

/** What the browser offers the shared connection; tests give each simulated tab its own. */
export interface SharedTabsEnvironment {
  /** Channels between tabs (`BroadcastChannel`); `null`: one socket per tab. */
  readonly channels: TabChannelFactory | null;
  /** Web Locks (`navigator.locks`, secure contexts only); `null`: owners are elected with claims on the channel. */
  readonly locks: LockManagerLike | null;
  /** `pagehide`, `pageshow`, and the Page Lifecycle API's `freeze` and `resume`. */
  readonly lifecycle$: Observable<PageLifecycleEvent>;
  readonly ticks: (periodMs: number) => Observable<unknown>;
  readonly timing: SharedTiming;
  readonly memberId: () => string;
}

/** @internal No channel between tabs: every service keeps a socket of its own (what `provideRealtimeTesting()` gives). */
export const ɵNO_SHARED_TABS: SharedTabsEnvironment = {
  channels: null,
  locks: null,
  lifecycle$: EMPTY,
  ticks: () => EMPTY,
  timing: SHARED_TIMING,
  memberId: () => '',
};

/** @internal */
export const ɵSHARED_TABS_ENVIRONMENT = /* @__PURE__ */ new InjectionToken<SharedTabsEnvironment>('ɵSHARED_TABS_ENVIRONMENT', {
  providedIn: 'root',
  factory: () => browserTabsEnvironment(inject(DOCUMENT, { optional: true })?.defaultView ?? null),
});

export function browserTabsEnvironment(view: (Window & typeof globalThis) | null): SharedTabsEnvironment {
  const Channel = view?.BroadcastChannel;
  return {
    channels: typeof Channel === 'function' ? broadcastTabChannels(Channel) : null,
    locks: view?.navigator?.locks ?? null,
    lifecycle$: view
      ? merge(
          fromEvent(view, 'pagehide').pipe(map((): PageLifecycleEvent => ({ type: 'pagehide' }))),
          fromEvent<PageTransitionEvent>(view, 'pageshow').pipe(map((e): PageLifecycleEvent => ({ type: 'pageshow', persisted: e.persisted }))),
          fromEvent(view.document, 'freeze').pipe(map((): PageLifecycleEvent => ({ type: 'freeze' }))),
          fromEvent(view.document, 'resume').pipe(map((): PageLifecycleEvent => ({ type: 'resume' }))),
        )
      : EMPTY,
    ticks: (periodMs) => interval(periodMs),
    timing: SHARED_TIMING,
    // randomUUID needs a secure context, like Web Locks; without it a time and a random part are unique enough.
    memberId: () => view?.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`,
  };
}

/** The transport factory of `withSharedConnection()`; runs in the injection context of `provideRealtime()`'s providers. */
export function sharedTransportFactory(): RealtimeTransportFactory {
  const maker = webSocketTransportMaker();
  const env = inject(ɵSHARED_TABS_ENVIRONMENT);
  const channels = env.channels;
  if (isPlatformServer(inject(PLATFORM_ID)) || !channels) return (link) => maker.create(maker.tokens(), link);
  const config = inject(ɵREALTIME_CONFIG);
  const random = inject(ɵREALTIME_RANDOM);
  const { locks, timing } = env;
  const now = () => asyncScheduler.now();
  return (link) => {
    const tokens = maker.tokens();
    const memberId = env.memberId();
    return new SharedTransport(
      {
        url: config.url,
        memberId,
        tokens,
        openTransport: (ownerLink) => maker.create(tokens, ownerLink),
        channels,
        elect: (group, post) =>
          locks ? new LockElection(locks, `${group}:owner`, now) : new ChannelElection({ memberId, post, settleMs: timing.settleMs, now }),
        presence: locks ? (group) => new LockPresence(locks, group, memberId) : null,
        lifecycle$: env.lifecycle$,
        ticks$: env.ticks(timing.tickMs),
        timing,
        random,
      },
      link,
    );
  };
}
