import { HttpBackend, HttpClient, HttpErrorResponse } from '@angular/common/http';
import { computed, DestroyRef, inject, Injectable, InjectionToken, signal } from '@angular/core';
import { firstValueFrom } from 'rxjs';
import type { TokenResponse, User } from '@payments-system/protocol';

/** What is kept in localStorage, so that every tab of the browser shares one login. */
export interface StoredSession {
  readonly accessToken: string;
  readonly refreshToken: string;
  /** Epoch ms when the access token expires (its `exp` claim). */
  readonly expiresAt: number;
  readonly user: User;
}

export const SESSION_STORAGE_KEY = 'payments.session';
const REFRESH_LOCK = 'payments.session.refresh';
/** An access token with less life than this left is refreshed before use. */
const EXPIRY_MARGIN_MS = 1000;

/** Storage and clock, replaceable in tests. */
export interface AuthEnvironment {
  readonly storage: Storage;
  readonly now: () => number;
  /** Runs `task` holding a browser-wide lock (Web Locks), so two tabs never spend the same refresh token. */
  readonly withLock: <T>(name: string, task: () => Promise<T>) => Promise<T>;
  readonly onStorage: (listener: (event: StorageEvent) => void) => () => void;
}

export const AUTH_ENVIRONMENT = new InjectionToken<AuthEnvironment>('AUTH_ENVIRONMENT', {
  providedIn: 'root',
  factory: () => ({
    storage: localStorage,
    now: () => Date.now(),
    withLock: <T>(name: string, task: () => Promise<T>) =>
      navigator.locks ? (navigator.locks.request(name, task) as Promise<T>) : task(),
    onStorage: (listener) => {
      window.addEventListener('storage', listener);
      return () => window.removeEventListener('storage', listener);
    },
  }),
});

/** Why the user is back at the login page; shown there. */
export type SignedOutReason = 'logout' | 'elsewhere' | 'expired';

/** Thrown when the session cannot be refreshed any more: the user must sign in again. */
export class SessionEndedError extends Error {
  override readonly name = 'SessionEndedError';
}

/**
 * The signed-in session: login, refresh (single-use rotating refresh tokens, one refresh at a time across tabs),
 * logout, and the other tabs' changes through the `storage` event.
 */
@Injectable({ providedIn: 'root' })
export class AuthService {
  // HttpBackend skips the interceptors: these calls carry no bearer and must never trigger a refresh themselves.
  private readonly http = new HttpClient(inject(HttpBackend));
  private readonly env = inject(AUTH_ENVIRONMENT);

  private readonly _session = signal<StoredSession | null>(this.read());
  private readonly _socketToken = signal<string | null>(this._session()?.accessToken ?? null);
  private readonly _signedOut = signal<SignedOutReason | null>(null);

  readonly session = this._session.asReadonly();
  readonly user = computed<User | null>(() => this._session()?.user ?? null);
  readonly isSignedIn = computed(() => this._session() !== null);
  /** Why the last session ended (for the login page), or null. */
  readonly signedOutReason = this._signedOut.asReadonly();
  /**
   * The token the WebSocket connects with. It changes only when who is signed in changes (login, logout,
   * another user in another tab): a refreshed token must not reconnect a healthy socket. When the socket's token
   * expires, the gateway closes it with 4001 and the library asks {@link validAccessToken} for a fresh one.
   */
  readonly socketToken = this._socketToken.asReadonly();

  private refreshing: Promise<string> | null = null;

  constructor() {
    const stop = this.env.onStorage((event) => this.onStorage(event));
    inject(DestroyRef).onDestroy(stop);
  }

  /** The current access token (may be about to expire; see {@link validAccessToken}). */
  accessToken(): string | null {
    return this._session()?.accessToken ?? null;
  }

  async login(email: string, password: string): Promise<User> {
    const response = await firstValueFrom(this.http.post<TokenResponse>('/api/auth/login', { email, password }));
    const session = this.toSession(response);
    this.write(session);
    this._signedOut.set(null);
    this._session.set(session);
    this._socketToken.set(session.accessToken);
    return session.user;
  }

  /**
   * An access token with life left: the stored one, or a refreshed one. Several callers (the socket, HTTP retries,
   * other tabs) may ask at once; only one refresh request is made, under a browser-wide lock, and a tab that gets the
   * lock after another tab refreshed simply uses the new token. Rejects with {@link SessionEndedError} (and signs out)
   * when the gateway refuses the refresh token.
   */
  validAccessToken(stale?: string): Promise<string> {
    this.refreshing ??= this.env
      .withLock(REFRESH_LOCK, () => this.refreshUnderLock(stale))
      .finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  /**
   * The socket's `refreshToken`: a token to replace `stale`, the one the gateway no longer accepts; `null` when the
   * session is over (the refresh was refused, and the user is signed out). Rejects when the refresh could not be
   * made (the network), and the library tries again later.
   */
  async refreshSocketToken(stale: string): Promise<string | null> {
    try {
      return await this.validAccessToken(stale);
    } catch (error) {
      if (error instanceof SessionEndedError) return null;
      throw error;
    }
  }

  /** Ends the session everywhere (the gateway tells every other tab and device), then locally. */
  async logout(): Promise<void> {
    const session = this._session();
    this.endLocally('logout');
    if (!session) return;
    try {
      let token = session.accessToken;
      if (session.expiresAt - this.env.now() < EXPIRY_MARGIN_MS) token = await this.refreshWith(session);
      await firstValueFrom(this.http.post('/api/auth/logout', null, { headers: { Authorization: `Bearer ${token}` } }));
    } catch {
      // Signed out here anyway; the other sessions end when their tokens can no longer be refreshed.
    }
  }

  /** The session ended elsewhere (session:sync, a refused refresh, another tab): forget it without calling the API. */
  endLocally(reason: SignedOutReason): void {
    if (this._session() === null && this.read() === null) return;
    this.env.storage.removeItem(SESSION_STORAGE_KEY);
    this._signedOut.set(reason);
    this._session.set(null);
    this._socketToken.set(null);
  }

  private async refreshUnderLock(stale?: string): Promise<string> {
    const latest = this.read(); // another tab may have refreshed (or signed out) while we waited for the lock
    if (!latest) {
      this.endLocally('expired');
      throw new SessionEndedError('You were signed out.');
    }
    if (latest.accessToken !== this._session()?.accessToken) this._session.set(latest);
    const fresh = latest.expiresAt - this.env.now() >= EXPIRY_MARGIN_MS && latest.accessToken !== stale;
    return fresh ? latest.accessToken : this.refreshWith(latest);
  }

  private async refreshWith(session: StoredSession): Promise<string> {
    try {
      const response = await firstValueFrom(
        this.http.post<TokenResponse>('/api/auth/refresh', { refreshToken: session.refreshToken }),
      );
      const next = this.toSession(response);
      this.write(next);
      this._session.set(next);
      return next.accessToken;
    } catch (error) {
      if (error instanceof HttpErrorResponse && (error.status === 401 || error.status === 400)) {
        this.endLocally('expired');
        throw new SessionEndedError('Your session has ended. Please sign in again.');
      }
      throw error;
    }
  }

  private onStorage(event: StorageEvent): void {
    if (event.key !== SESSION_STORAGE_KEY && event.key !== null) return;
    const next = this.read();
    const current = this._session();
    if (!next) {
      if (current) this.endLocally('elsewhere');
      return;
    }
    this._session.set(next);
    if (current?.user.userId !== next.user.userId) {
      // Someone signed in (or switched user) in another tab: follow them.
      this._signedOut.set(null);
      this._socketToken.set(next.accessToken);
    }
  }

  private toSession(response: TokenResponse): StoredSession {
    const exp = jwtExpiry(response.accessToken);
    return {
      accessToken: response.accessToken,
      refreshToken: response.refreshToken,
      expiresAt: exp ?? this.env.now() + response.expiresIn * 1000,
      user: response.user,
    };
  }

  private read(): StoredSession | null {
    try {
      const raw = this.env.storage.getItem(SESSION_STORAGE_KEY);
      if (!raw) return null;
      const value = JSON.parse(raw) as Partial<StoredSession>;
      if (typeof value.accessToken !== 'string' || typeof value.refreshToken !== 'string' || !value.user) return null;
      return value as StoredSession;
    } catch {
      return null;
    }
  }

  private write(session: StoredSession): void {
    this.env.storage.setItem(SESSION_STORAGE_KEY, JSON.stringify(session));
  }
}

/** The `exp` claim of a JWT in epoch ms, or null (the signature is the gateway's business, not ours). */
export function jwtExpiry(token: string): number | null {
  try {
    const part = token.split('.')[1];
    if (!part) return null;
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : null;
  } catch {
    return null;
  }
}
