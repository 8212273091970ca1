/**
 * Where the socket's token comes from: the app's token (a string, signal or observable, or a factory run in the
 * injection context), and the token `refreshToken()` returned, which is used until the app's token changes.
 */
import { DestroyRef, effect, isSignal, runInInjectionContext, untracked, type Injector } from '@angular/core';
import {
  BehaviorSubject,
  defer,
  distinctUntilChanged,
  filter,
  finalize,
  from,
  isObservable,
  map,
  skip,
  take,
  tap,
  throwIfEmpty,
  type Observable,
} from 'rxjs';
import type { RealtimeTokenRefresher, RealtimeTokenSource, RealtimeTokenValue } from '../config';

export class TokenSource {
  /** The app's token: `undefined` before its first value, `null` or `''` while logged out. */
  private readonly appToken$ = new BehaviorSubject<string | null | undefined>(undefined);
  private refreshed: string | null = null;
  private waiters = 0;
  /** The token of the latest attempt. */
  inUse: string | null = null;

  /** Each change of the app's token after its first value (a login, a logout); forgets a refreshed token. */
  readonly changes$: Observable<string | null> = this.appToken$.pipe(
    distinctUntilChanged(),
    skip(1),
    filter((token): token is string | null => token !== undefined),
    tap(() => (this.refreshed = null)),
  );

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
   * Calls `refreshToken()` in the injection context; the new token is used until the app's token changes.
   * Errors with the refresher's error, or when it gave nothing usable.
   */
  refresh(): Observable<string> {
    const refresher = this.refresher;
    if (!refresher) throw new Error('TokenSource.refresh: no refreshToken is configured');
    return defer(() => {
      const result = runInInjectionContext(this.injector, refresher);
      return isObservable(result) ? result.pipe(take(1)) : from(result);
    }).pipe(
      throwIfEmpty(() => new Error('refreshToken completed without a token')),
      map((token) => {
        if (typeof token !== 'string' || token.length === 0) throw new Error('refreshToken returned no token');
        return (this.refreshed = token);
      }),
    );
  }

  private use(token: string): string {
    this.inUse = token;
    return token;
  }
}
