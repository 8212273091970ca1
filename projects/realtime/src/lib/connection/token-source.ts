/**
 * Where the socket's token comes from: the app's token (a string, signal or observable, or a factory run in the
 * injection context), and the token `refreshToken()` returned, which is used until the app's token changes.
 * It also tells when the app's token starts another login session (see {@link TokenChange}).
 */
import { DestroyRef, effect, isSignal, runInInjectionContext, untracked, type Injector } from '@angular/core';
import {
  BehaviorSubject,
  defaultIfEmpty,
  defer,
  distinctUntilChanged,
  filter,
  finalize,
  from,
  isObservable,
  map,
  skip,
  Subject,
  take,
  type Observable,
} from 'rxjs';
import type { RealtimeTokenRefresher, RealtimeTokenSource, RealtimeTokenValue } from '../config';
import { loginSessionOf } from './jwt';

/** A change of the app's token (a login, a logout, another user), not a refresh. */
export interface TokenChange {
  /** The new token; `null` or `''` while logged out. */
  readonly token: string | null;
  /**
   * The login session of the previous token is over: the token became empty (a sign-out), or the new one belongs
   * to another session (another `sid` or user claim; any new token when tokens are opaque). See `loginSessionOf`.
   */
  readonly sessionEnded: boolean;
}

export class TokenSource {
  /** The app's token: `undefined` before its first value, `null` or `''` while logged out. */
  private readonly appToken$ = new BehaviorSubject<string | null | undefined>(undefined);
  private refreshed: string | null = null;
  private waiters = 0;
  /** The token of the latest attempt. */
  inUse: string | null = null;

  /** The login session of the app's token (`loginSessionOf`), `null` while there is no token. */
  private session: string | null = null;
  private readonly changesSubject = new Subject<TokenChange>();
  /** Each change of the app's token after its first value (a login, a logout); forgets a refreshed token. */
  readonly changes$: Observable<TokenChange> = this.changesSubject.asObservable();

  constructor(
    source: RealtimeTokenSource,
    private readonly refresher: RealtimeTokenRefresher | null,
    private readonly injector: Injector,
  ) {
    const value: RealtimeTokenValue =
      typeof source === 'function' && !isSignal(source) ? runInInjectionContext(injector, source) : source;
    if (typeof value === 'string') {
      this.appToken$.next(value);
    } else if (isSignal(value)) {
      this.appToken$.next(untracked(value));
      effect(() => {
        const token = value();
        untracked(() => this.appToken$.next(token));
      }, { injector });
    } else if (isObservable(value)) {
      const subscription = value.subscribe((token) => this.appToken$.next(token));
      injector.get(DestroyRef).onDestroy(() => subscription.unsubscribe());
    }
    this.session = sessionOf(this.appToken$.value);
    this.appToken$
      .pipe(
        distinctUntilChanged(),
        skip(1),
        filter((token): token is string | null => token !== undefined),
      )
      .subscribe((token) => {
        const session = sessionOf(token);
        const sessionEnded = this.session !== null && session !== this.session;
        this.session = session;
        this.refreshed = null;
        this.changesSubject.next({ token, sessionEnded });
      });
  }

  /** The app's current token: `undefined` before its first value, `null` or `''` while logged out. */
  get appToken(): string | null | undefined {
    return this.appToken$.value;
  }

  /**
   * Uses `token`, a token of this login session that another tab refreshed, for the next attempts, until the app's
   * token changes (as a token `refresh()` returned is used).
   */
  adopt(token: string): void {
    if (token) this.refreshed = token;
  }

  get canRefresh(): boolean {
    return this.refresher !== null;
  }

  /** An attempt is waiting for the app's first non-empty token (it will take the next one by itself). */
  get waiting(): boolean {
    return this.waiters > 0;
  }

  /** The token for the next attempt: the refreshed one, else the app's first non-empty token (waits for it). */
  next(): Observable<string> {
    return defer(() => {
      if (this.refreshed) return [this.use(this.refreshed)];
      this.waiters++;
      return this.appToken$.pipe(
        filter((token): token is string => typeof token === 'string' && token.length > 0),
        take(1),
        map((token) => this.use(token)),
        finalize(() => this.waiters--),
      );
    });
  }

  /**
   * Calls `refreshToken(stale)` in the injection context; the new token is used until the app's token changes.
   * Emits `null` when the refresher gave no token (`null`, empty, or completed without a value): the session is
   * over. Errors with the refresher's error (the refresh could not be made).
   */
  refresh(stale: string): Observable<string | null> {
    const refresher = this.refresher;
    if (!refresher) throw new Error('TokenSource.refresh: no refreshToken is configured');
    return defer(() => {
      const result = runInInjectionContext(this.injector, () => refresher(stale));
      return isObservable(result) ? result.pipe(take(1)) : from(result);
    }).pipe(
      defaultIfEmpty(null),
      map((token) => (typeof token === 'string' && token.length > 0 ? (this.refreshed = token) : null)),
    );
  }

  /** The open socket took `token` in-band (`auth`): it is the token in use, and the one a reconnect starts with. */
  renewed(token: string): void {
    this.refreshed = token;
    this.inUse = token;
  }

  private use(token: string): string {
    this.inUse = token;
    return token;
  }
}

function sessionOf(token: string | null | undefined): string | null {
  return token ? loginSessionOf(token) : null;
}
