import { Injectable, signal } from '@angular/core';
import type { TokenResponse } from '@payments-system/protocol';

/**
 * The app's sign-in, against the gateway's auth API (`/api/auth/*`; the demo's `npm start` serves it).
 * The library needs two things of it: the access token as a signal (`null` while signed out), and a refresh.
 */
@Injectable({ providedIn: 'root' })
export class AuthService {
  readonly accessToken = signal<string | null>(null);
  private refreshToken: string | null = null;

  async signIn(email: string, password: string): Promise<void> {
    const response = await post('/api/auth/login', { email, password });
    if (!response.ok) throw new Error(`sign-in failed: HTTP ${response.status}`);
    this.keep((await response.json()) as TokenResponse);
  }

  /**
   * A token to replace `stale`, which the gateway no longer accepts; `null` once the refresh is refused (the
   * session is over: signed out). Throws when the refresh cannot be made (the network): the library tries again.
   */
  async refresh(stale: string): Promise<string | null> {
    if (this.accessToken() !== stale) return this.accessToken(); // already replaced
    const response = await post('/api/auth/refresh', { refreshToken: this.refreshToken });
    if (response.status === 400 || response.status === 401) {
      this.signOut();
      return null;
    }
    if (!response.ok) throw new Error(`refresh failed: HTTP ${response.status}`);
    return this.keep((await response.json()) as TokenResponse);
  }

  signOut(): void {
    this.refreshToken = null;
    this.accessToken.set(null);
  }

  private keep(tokens: TokenResponse): string {
    this.refreshToken = tokens.refreshToken;
    this.accessToken.set(tokens.accessToken);
    return tokens.accessToken;
  }
}

function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}
