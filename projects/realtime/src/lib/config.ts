import { InjectionToken, type Signal } from '@angular/core';
import type { Observable } from 'rxjs';
import { fetchHandshakeCheck, type HandshakeCheck } from './connection/handshake-check';

/** The current access token: a fixed string, a signal or an observable of it. */
export type RealtimeTokenValue = string | Signal<string | null | undefined> | Observable<string | null | undefined>;

/**
 * Where the access token comes from: a {@link RealtimeTokenValue}, or a factory returning one that runs once in the
 * service's injection context (so `token: () => inject(AuthService).token` works in `app.config.ts`).
 */
export type RealtimeTokenSource = RealtimeTokenValue | (() => RealtimeTokenValue);

/**
 * Returns a fresh access token to replace `staleToken`: ahead of its expiry, for the open socket (in-band, see
 * {@link RealtimeTokenRefreshOptions}), or after the gateway stopped accepting it (a 4001 close, or a handshake refused:
 * its token expired, or the gateway's handshake check answered 401). Called in the service's injection context, so it
 * may use `inject()`.
 *
 * - a token: the service sends it on the open socket, or reconnects with it at once;
 * - `null` (or an empty string): the session is over (the refresh was refused): `disconnected` with an `auth` error;
 * - a rejection: the refresh could not be made (the network, say): the service backs off and tries again.
 */
export type RealtimeTokenRefresher = (staleToken: string) => Promise<string | null> | Observable<string | null>;

/**
 * How the delay before a retry is randomised.
 * - `equal` (default): uniform in [delay/2, delay]; keeps the schedule's shape and spreads a fleet.
 * - `full`: uniform in [0, delay]; the widest spread.
 * - `none`: exactly the table.
 */
export type RealtimeJitter = 'equal' | 'full' | 'none';

export interface RealtimeReconnectOptions {
  /** Retries after a lost or failed connection before giving up. Default 10. */
  readonly maxAttempts?: number;
  /** Delay before retry n is `delaysMs[min(n, length) - 1]`. Default `[1000, 2000, 4000, 8000, 16000, 30000]`. */
  readonly delaysMs?: readonly number[];
  /** Default `'equal'`. */
  readonly jitter?: RealtimeJitter;
}

export interface RealtimeHeartbeatOptions {
  /** An application-level `ping` is sent this often while connected. Default 25 000 ms. */
  readonly intervalMs?: number;
  /** The connection counts as dead when no frame arrives this long after a ping. Default 10 000 ms. */
  readonly timeoutMs?: number;
}

/**
 * In-band refresh: ahead of the token's expiry the service calls `refreshToken` and sends the new token on the open
 * socket (`auth`), so the gateway moves the socket's deadline and nothing else happens (no reconnect, no replay, no
 * gap). It needs `refreshToken` and a token with an `exp` claim. A gateway too old to know `auth` answers
 * `BAD_REQUEST`: the service then reconnects with the new token instead.
 */
export interface RealtimeTokenRefreshOptions {
  /**
   * How long before `exp` (by the gateway's clock, read from its messages) the refresh starts, at most: never more
   * than half the token's lifetime. Default 60 000 ms.
   */
  readonly leadTimeMs?: number;
  /**
   * How much of the lead is randomised, from 0 to 1: the refresh starts at a random moment between `leadTimeMs` and
   * `leadTimeMs × (1 − jitter)` before `exp`, so that the tabs and users whose tokens expire together do not refresh
   * together. Default 0.5.
   */
  readonly jitter?: number;
}

/** How the token reaches the gateway. */
export type RealtimeTokenTransport = 'subprotocol' | 'query';

/** Options of {@link provideRealtime}. */
export interface RealtimeConfig {
  /** `ws://` or `wss://` URL of the gateway's `/ws` endpoint, or a path such as `/ws` (same origin). */
  readonly url: string;
  /** The current access token. A change of the value reconnects with the new token. */
  readonly token: RealtimeTokenSource;
  /** Called ahead of the token's expiry and when the gateway no longer accepts it; without it, expiry ends in `disconnected` with an `auth` error. */
  readonly refreshToken?: RealtimeTokenRefresher;
  /** In-band refresh ahead of expiry (on by default when `refreshToken` is given), or `false` to refresh only after a 4001. */
  readonly tokenRefresh?: RealtimeTokenRefreshOptions | false;
  /** Backoff settings, or `false` to never retry automatically. */
  readonly reconnect?: RealtimeReconnectOptions | false;
  /** Application-level ping/pong watchdog, or `false` to turn it off. */
  readonly heartbeat?: RealtimeHeartbeatOptions | false;
  /** Connect as soon as the application starts. Default `true`. */
  readonly autoConnect?: boolean;
  /** Time to wait for the gateway's reply to `subscribe`/`unsubscribe`. Default 10 000 ms. */
  readonly requestTimeoutMs?: number;
  /** Messages kept by `send()` while not connected. Default 100; when full, new messages are refused. */
  readonly sendQueueSize?: number;
}

/** The fully defaulted configuration the service runs with. */
export interface ResolvedRealtimeConfig {
  readonly url: string;
  readonly token: RealtimeTokenSource;
  readonly refreshToken: RealtimeTokenRefresher | null;
  /** `null`: no in-band refresh (turned off, or no `refreshToken`). */
  readonly tokenRefresh: Required<RealtimeTokenRefreshOptions> | null;
  readonly reconnect: Required<RealtimeReconnectOptions> | null;
  readonly heartbeat: Required<RealtimeHeartbeatOptions> | null;
  readonly autoConnect: boolean;
  readonly requestTimeoutMs: number;
  readonly sendQueueSize: number;
  readonly tokenTransport: RealtimeTokenTransport;
}

export const DEFAULT_RECONNECT: Required<RealtimeReconnectOptions> = Object.freeze({
  maxAttempts: 10,
  delaysMs: Object.freeze([1000, 2000, 4000, 8000, 16000, 30000]),
  jitter: 'equal',
});

export const DEFAULT_HEARTBEAT: Required<RealtimeHeartbeatOptions> = Object.freeze({
  intervalMs: 25_000,
  timeoutMs: 10_000,
});

export const DEFAULT_TOKEN_REFRESH: Required<RealtimeTokenRefreshOptions> = Object.freeze({
  leadTimeMs: 60_000,
  jitter: 0.5,
});

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
export const DEFAULT_SEND_QUEUE_SIZE = 100;

function positive(name: string, value: number, allowZero = false): number {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new Error(`provideRealtime: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${value}`);
  }
  return value;
}

/** Merges defaults and rejects impossible settings loudly, once, at provider time. */
export function resolveRealtimeConfig(
  config: RealtimeConfig,
  tokenTransport: RealtimeTokenTransport = 'subprotocol',
): ResolvedRealtimeConfig {
  if (typeof config.url !== 'string' || !/^(wss?:\/\/|\/)/.test(config.url)) {
    throw new Error(`provideRealtime: url must start with ws://, wss:// or /, got ${JSON.stringify(config.url)}`);
  }
  if (config.token === undefined || config.token === null) {
    throw new Error('provideRealtime: token is required (a string, a signal or an observable)');
  }
  let reconnect: Required<RealtimeReconnectOptions> | null = null;
  if (config.reconnect !== false) {
    const r = { ...DEFAULT_RECONNECT, ...(config.reconnect ?? {}) };
    positive('reconnect.maxAttempts', r.maxAttempts, true);
    if (r.delaysMs.length === 0) throw new Error('provideRealtime: reconnect.delaysMs must not be empty');
    r.delaysMs.forEach((d, i) => positive(`reconnect.delaysMs[${i}]`, d, true));
    if (!['equal', 'full', 'none'].includes(r.jitter)) {
      throw new Error(`provideRealtime: reconnect.jitter must be 'equal', 'full' or 'none', got ${String(r.jitter)}`);
    }
    reconnect = Object.freeze({ ...r, delaysMs: Object.freeze([...r.delaysMs]) });
  }
  let heartbeat: Required<RealtimeHeartbeatOptions> | null = null;
  if (config.heartbeat !== false) {
    const h = { ...DEFAULT_HEARTBEAT, ...(config.heartbeat ?? {}) };
    positive('heartbeat.intervalMs', h.intervalMs);
    positive('heartbeat.timeoutMs', h.timeoutMs);
    heartbeat = Object.freeze(h);
  }
  let tokenRefresh: Required<RealtimeTokenRefreshOptions> | null = null;
  if (config.tokenRefresh !== false && config.refreshToken) {
    const t = { ...DEFAULT_TOKEN_REFRESH, ...(config.tokenRefresh ?? {}) };
    positive('tokenRefresh.leadTimeMs', t.leadTimeMs);
    if (!(t.jitter >= 0 && t.jitter <= 1)) throw new Error(`provideRealtime: tokenRefresh.jitter must be between 0 and 1, got ${t.jitter}`);
    tokenRefresh = Object.freeze(t);
  }
  return Object.freeze({
    url: config.url,
    token: config.token,
    refreshToken: config.refreshToken ?? null,
    tokenRefresh,
    reconnect,
    heartbeat,
    autoConnect: config.autoConnect ?? true,
    requestTimeoutMs: positive('requestTimeoutMs', config.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS),
    sendQueueSize: positive('sendQueueSize', config.sendQueueSize ?? DEFAULT_SEND_QUEUE_SIZE, true),
    tokenTransport,
  });
}

/** Constructor shape `rxjs/webSocket` needs; a browser's `WebSocket` fits. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocket;

/** @internal */
export const ɵREALTIME_CONFIG = new InjectionToken<ResolvedRealtimeConfig>('ɵREALTIME_CONFIG');

/** @internal The WebSocket implementation; tests swap in a fake. Defaults to the global `WebSocket`. */
export const ɵREALTIME_WEB_SOCKET_CTOR = new InjectionToken<WebSocketConstructor | null>('ɵREALTIME_WEB_SOCKET_CTOR', {
  providedIn: 'root',
  factory: () => (typeof WebSocket === 'function' ? WebSocket : null),
});

/** @internal How the service asks the gateway why a handshake failed (tests answer it). See `handshake-check.ts`. */
export const ɵREALTIME_HANDSHAKE_CHECK = new InjectionToken<HandshakeCheck>('ɵREALTIME_HANDSHAKE_CHECK', {
  providedIn: 'root',
  factory: () => fetchHandshakeCheck(typeof fetch === 'function' ? fetch.bind(globalThis) : null),
});

/** @internal Source of randomness for jitter (tests pin it). */
export const ɵREALTIME_RANDOM = new InjectionToken<() => number>('ɵREALTIME_RANDOM', {
  providedIn: 'root',
  factory: () => Math.random,
});

/** @internal The browser's `online` event (tests push it by hand). Defaults to `window`'s event. */
export const ɵREALTIME_ONLINE = new InjectionToken<Observable<unknown>>('ɵREALTIME_ONLINE');
