/**
 * What to do after a socket attempt ended: wait and retry, refresh the token first, or stop. Pure functions of
 * the ending and the context (no Angular, no timers, no clock of their own), so every rule is unit-tested alone.
 * The close codes' advice comes from the protocol's `closeAdvice`.
 */
import { closeAdvice, CloseCode } from '@payments-system/protocol';
import type { RealtimeReconnectOptions } from '../config';
import type { RealtimeError, RealtimeErrorKind } from '../errors';
import { backoffDelay } from './backoff';
import { isJwtExpired } from './jwt';

/** How one socket attempt ended. */
export interface ConnectionEnding {
  /** The socket reached `open` before it ended. */
  readonly opened: boolean;
  /** The close code (1006 for a failed handshake or a drop without a close frame). */
  readonly code: number;
  readonly reason: string;
  /** The token the attempt used. */
  readonly token: string;
  /** The gateway answered the handshake check of a failed handshake with 401: it refuses this token. */
  readonly tokenRefused?: boolean;
}

export interface RetryContext {
  /** Failed attempts since the last open: the position in the backoff table. */
  readonly failures: number;
  /** A token refresh already happened since the last open: a second expiry stops instead of looping. */
  readonly refreshedSinceOpen: boolean;
  /** A `refreshToken` function is configured. */
  readonly canRefresh: boolean;
  /** The backoff settings, or `null` for `reconnect: false`. */
  readonly reconnect: Required<RealtimeReconnectOptions> | null;
  /** Jitter source in [0, 1), as `Math.random`. */
  readonly random: () => number;
  /** Epoch ms now. */
  readonly now: number;
}

export type RetryDecision =
  /** Report `error`, wait `delayMs` (or until the browser is back online), then open socket number `attempt`. */
  | { readonly action: 'wait'; readonly attempt: number; readonly delayMs: number; readonly error: RealtimeError }
  /** Get a fresh token and retry at once, spending no attempt. */
  | { readonly action: 'refresh-token'; readonly reason: string; readonly closeCode: number }
  /** Go `disconnected` with `error`; `retryWhenOnline`: the browser's `online` event may start again. */
  | { readonly action: 'stop'; readonly error: RealtimeError; readonly retryWhenOnline: boolean };

export type StopDecision = Extract<RetryDecision, { action: 'stop' }>;

/** "connection closed (1001 server shutting down)" or "connection failed (1006)". */
export function describeEnding(ending: Pick<ConnectionEnding, 'opened' | 'code' | 'reason'>): string {
  return `connection ${ending.opened ? 'closed' : 'failed'} (${ending.code}${ending.reason ? ` ${ending.reason}` : ''})`;
}

export function decideAfterEnding(ending: ConnectionEnding, context: RetryContext): RetryDecision {
  const { code, opened } = ending;
  const what = describeEnding(ending);
  // Browsers hide the HTTP status of a refused handshake (a 401 looks like 1006): the token's own `exp` tells,
  // or else the gateway's answer to the handshake check (see handshake-check.ts).
  const expiredHandshake = isExpiredHandshake(ending, context.now);
  const refusedHandshake = !opened && ending.tokenRefused === true;
  const advice = expiredHandshake || refusedHandshake ? 'refresh-token' : closeAdvice(code);

  if (advice === 'refresh-token') {
    const reason = expiredHandshake
      ? 'handshake refused with an expired token'
      : refusedHandshake
        ? 'handshake refused: the gateway does not accept the token (401)'
        : 'token expired (4001)';
    if (!context.canRefresh) return stop('auth', `${reason} and no refreshToken is configured`, false, context.now, code);
    if (context.refreshedSinceOpen) return stop('auth', `${reason} again right after a refresh`, false, context.now, code);
    return { action: 'refresh-token', reason, closeCode: code };
  }
  if (advice === 'stop') {
    const kind: RealtimeErrorKind = code === CloseCode.SessionRevoked ? 'auth' : 'closed-by-server';
    return stop(kind, `${what}: not reconnecting`, false, context.now, code);
  }
  const kind: RealtimeErrorKind = opened && code !== 1006 && code !== 1005 ? 'closed-by-server' : 'network';
  const { reconnect } = context;
  const attempt = context.failures + 1;
  if (!reconnect || attempt > reconnect.maxAttempts) {
    const tries = reconnect ? reconnect.maxAttempts : 0;
    return stop(kind, `gave up after ${tries} attempts: ${what}`, true, context.now, code);
  }
  return {
    action: 'wait',
    attempt,
    delayMs: backoffDelay(attempt, reconnect.delaysMs, reconnect.jitter, context.random),
    error: { kind, message: what, closeCode: code, at: context.now },
  };
}

/** A failed handshake that the token's `exp` explains: no need to ask the gateway. */
export function isExpiredHandshake(ending: Pick<ConnectionEnding, 'opened' | 'code' | 'token'>, now: number): boolean {
  return !ending.opened && ending.code === 1006 && isJwtExpired(ending.token, now);
}

/** A failed handshake the gateway may explain (see handshake-check.ts): worth asking before deciding. */
export function shouldCheckHandshake(ending: Pick<ConnectionEnding, 'opened' | 'code' | 'token'>, now: number): boolean {
  return !ending.opened && ending.code === 1006 && !isJwtExpired(ending.token, now);
}

/** `refreshToken()` gave no token (`null`, empty): the session is over. Stop with an auth error. */
export function decideAfterRefreshRefused(closeCode: number, now: number): StopDecision {
  return stop('auth', 'token refresh refused: the session is over', false, now, closeCode);
}

/**
 * `refreshToken()` failed (rejected, errored): it could not be made, the network perhaps. Back off and try again,
 * counting an attempt like any failed connection; the next handshake tells whether a refresh is still needed.
 */
export function decideAfterRefreshError(cause: unknown, context: Omit<RetryContext, 'refreshedSinceOpen' | 'canRefresh'>): RetryDecision {
  const { reconnect, now } = context;
  const message = `token refresh failed: ${messageOf(cause)}`;
  const attempt = context.failures + 1;
  if (!reconnect || attempt > reconnect.maxAttempts) {
    return stop('auth', `gave up after ${reconnect ? reconnect.maxAttempts : 0} attempts: ${message}`, true, now);
  }
  return {
    action: 'wait',
    attempt,
    delayMs: backoffDelay(attempt, reconnect.delaysMs, reconnect.jitter, context.random),
    error: { kind: 'auth', message, at: now },
  };
}

/** Anything that is not a socket ending (a WebSocket constructor that threw, for instance): stop, retry when online. */
export function decideAfterError(cause: unknown, now: number): StopDecision {
  return stop('network', messageOf(cause), true, now);
}

function stop(kind: RealtimeErrorKind, message: string, retryWhenOnline: boolean, at: number, closeCode?: number): StopDecision {
  const error: RealtimeError = closeCode === undefined ? { kind, message, at } : { kind, message, closeCode, at };
  return { action: 'stop', error, retryWhenOnline };
}

function messageOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
