/**
 * In-band token refresh for one open socket: ahead of the token's expiry, get a new token from the app's
 * `refreshToken` and send it as `auth {token}`; the gateway answers `authenticated` and moves the socket's deadline.
 * Nothing else happens to the connection: no reconnect, no replay, no gap in live events.
 *
 * When: a random moment between `leadTimeMs` and `leadTimeMs × (1 − jitter)` before `exp` (the lead never more than
 * half the token's lifetime), by the gateway's clock: the offset of the browser's clock is read from the gateway's
 * replies, whose `timestamp` is when they were made, and the plan follows it when it moves by more than a second. A
 * browser whose clock runs late would otherwise refresh after the gateway has closed the socket.
 *
 * What the answer means, as an {@link InBandOutcome}:
 * - `authenticated` → `renewed`, and the next refresh is planned for the new token;
 * - `error BAD_REQUEST` → `unsupported`: a gateway that does not know `auth` (or refuses its shape); the transport
 *   reconnects with the new token;
 * - `error UNAUTHORIZED` / `FORBIDDEN` → `refused`: the gateway will not take this token on this socket; the socket
 *   keeps its old one until the gateway closes it with 4001, and the usual refresh-and-reconnect follows;
 * - anything else (`SERVICE_UNAVAILABLE`, `CONFLICT`, `RATE_LIMITED`, no answer in time, a refresh that failed) is
 *   transient: tried again, sooner as expiry nears, until the token has expired;
 * - a refresh that gives no token (the session is over) → `session-over`.
 */
import { assertNever, type ClientMessage, type ServerMessage } from '@payments-system/protocol';
import { catchError, defer, EMPTY, filter, map, mergeMap, Observable, of, startWith, switchMap, take, timeout, timer } from 'rxjs';
import type { RealtimeTokenRefreshOptions } from '../config';
import type { RealtimeError } from '../errors';
import { jwtClaims } from './jwt';

export type InBandOutcome =
  /** The socket's token is now `token`. */
  | { readonly type: 'renewed'; readonly token: string }
  /** The gateway does not know `auth`: reconnect with `token`. */
  | { readonly type: 'unsupported'; readonly token: string }
  /** The gateway refused the new token on this socket (UNAUTHORIZED, FORBIDDEN). */
  | { readonly type: 'refused'; readonly error: RealtimeError }
  /** `refreshToken` gave no token: the login session is over. */
  | { readonly type: 'session-over' };

export interface InBandRefreshLink {
  /** Writes to the open socket. */
  write(message: ClientMessage): void;
  /** The app's `refreshToken(stale)`: a token, `null` when the session is over; errors when it could not be made. */
  refresh(stale: string): Observable<string | null>;
  /** This socket's server messages, as they arrive. */
  readonly messages$: Observable<ServerMessage>;
  nextId(prefix: string): string;
  random(): number;
  now(): number;
}

/** The browser's clock is trusted to the gateway's within this; a larger change of the offset re-plans. */
const OFFSET_TOLERANCE_MS = 1000;

/** Refreshes `token` on its socket until the socket ends (unsubscribe); emits each outcome. */
export function inBandRefresh(
  token: string,
  options: Required<RealtimeTokenRefreshOptions>,
  requestTimeoutMs: number,
  link: InBandRefreshLink,
): Observable<InBandOutcome> {
  // The gateway's clock minus ours, from its replies: their timestamp is when they were made (room events carry the
  // time they were published, which a replay makes old, so they do not count).
  let offsetMs = 0;
  const offsets$ = link.messages$.pipe(
    filter((message) => message.id === undefined),
    map((message) => Date.parse(message.timestamp) - link.now()),
    filter((offset) => Number.isFinite(offset) && Math.abs(offset - offsetMs) > OFFSET_TOLERANCE_MS),
    map((offset) => (offsetMs = offset)),
  );
  const serverNow = () => link.now() + offsetMs;

  const cycle = (current: string): Observable<InBandOutcome> => {
    const plan = planFor(current, serverNow(), options, link.random());
    if (plan === null) return EMPTY; // no `exp` to plan by: refreshed after a 4001 only
    // Waits for the planned moment, planned again whenever the gateway's clock turns out to be elsewhere.
    const due$ = offsets$.pipe(
      startWith(offsetMs),
      switchMap(() => timer(Math.max(0, plan.refreshAt - serverNow()))),
      take(1),
    );
    return due$.pipe(switchMap(() => attempt(current, plan.expiresAt, 0)));
  };

  const attempt = (current: string, expiresAt: number, failures: number): Observable<InBandOutcome> =>
    link.refresh(current).pipe(
      take(1),
      switchMap((fresh) => (fresh === null ? of<Answer>({ kind: 'session-over' }) : authenticate(fresh))),
      catchError(() => of<Answer>({ kind: 'transient' })),
      mergeMap((answer): Observable<InBandOutcome> => {
        switch (answer.kind) {
          case 'authenticated':
            return defer(() => cycle(answer.token)).pipe(startWith<InBandOutcome>({ type: 'renewed', token: answer.token }));
          case 'unsupported':
            return of({ type: 'unsupported', token: answer.token });
          case 'refused':
            return of({ type: 'refused', error: { kind: 'auth', message: `the gateway refused the refreshed token: ${answer.message}`, at: link.now() } });
          case 'session-over':
            return of({ type: 'session-over' });
          case 'transient': {
            const left = expiresAt - serverNow();
            if (left <= 0) return EMPTY; // too late: the gateway closes with 4001, and the refresh-and-reconnect follows
            return timer(retryDelay(failures, left)).pipe(switchMap(() => attempt(current, expiresAt, failures + 1)));
          }
          default:
            return assertNever(answer, 'in-band answer');
        }
      }),
    );

  const authenticate = (fresh: string): Observable<Answer> =>
    defer(() => {
      const correlationId = link.nextId('auth');
      const answer = link.messages$.pipe(
        filter((message) => message.correlationId === correlationId && (message.type === 'authenticated' || message.type === 'error')),
        take(1),
        timeout({ first: requestTimeoutMs }),
        map((message): Answer => {
          if (message.type === 'authenticated') return { kind: 'authenticated', token: fresh };
          if (message.type !== 'error') return { kind: 'transient' };
          switch (message.payload.code) {
            case 'BAD_REQUEST':
              return { kind: 'unsupported', token: fresh };
            case 'UNAUTHORIZED':
            case 'FORBIDDEN':
              return { kind: 'refused', message: message.payload.message };
            default:
              return { kind: 'transient' };
          }
        }),
      );
      // Subscribed before the write: the answer cannot overtake it.
      return new Observable<Answer>((subscriber) => {
        const subscription = answer.subscribe(subscriber);
        link.write({ type: 'auth', payload: { token: fresh }, correlationId });
        return subscription;
      });
    });

  return cycle(token);
}

type Answer =
  | { readonly kind: 'authenticated'; readonly token: string }
  | { readonly kind: 'unsupported'; readonly token: string }
  | { readonly kind: 'refused'; readonly message: string }
  | { readonly kind: 'session-over' }
  | { readonly kind: 'transient' };

export interface RefreshPlan {
  /** When to refresh and when the token expires, in epoch ms by the gateway's clock. */
  readonly refreshAt: number;
  readonly expiresAt: number;
}

/**
 * When to refresh `token`: `null` for a token without `exp`. The lead is `leadTimeMs`, at most half the lifetime
 * (`exp − iat`, or what is left when the token has no `iat`), of which `jitter` is spread by `random` (in [0, 1)).
 */
export function planFor(token: string, nowMs: number, options: Required<RealtimeTokenRefreshOptions>, random: number): RefreshPlan | null {
  const claims = jwtClaims(token);
  const exp = claims?.['exp'];
  if (typeof exp !== 'number') return null;
  const iat = claims?.['iat'];
  const expiresAt = exp * 1000;
  const lifetime = typeof iat === 'number' && iat < exp ? expiresAt - iat * 1000 : expiresAt - nowMs;
  const lead = Math.max(0, Math.min(options.leadTimeMs, lifetime / 2));
  return { refreshAt: expiresAt - lead * (1 - options.jitter * random), expiresAt };
}

/** After a transient failure: 1 s, 2 s, 4 s… but never more than a quarter of what is left of the token. */
function retryDelay(failures: number, leftMs: number): number {
  return Math.max(100, Math.min(1000 * 2 ** failures, leftMs / 4));
}
