/**
 * Why did a handshake fail? Browsers hide the HTTP status of a refused WebSocket handshake: a 401 looks exactly like
 * a gateway that is down (1006, no `open`). So after a failed handshake whose token has not expired, the service
 * asks the gateway: `GET` on the socket's own URL (`https:` for `wss:`), without an upgrade, with the token in
 * `Authorization: Bearer`. The gateway answers with its handshake's verdict on that token: 204 accepted, 401 refused.
 *
 * Only an answered 401 is a refusal (then the token is refreshed). No answer (the gateway or the network is down)
 * and any other status leave the failure what it looked like, a network failure, retried with backoff, so an outage
 * never turns into token refreshes.
 */
import { Observable, of } from 'rxjs';

export type HandshakeVerdict = 'refused' | 'accepted' | 'unknown';

/** Asks the gateway about `token`; emits one verdict and completes, never errors. */
export type HandshakeCheck = (socketUrl: string, token: string) => Observable<HandshakeVerdict>;

/** The URL of the check: the socket's URL over HTTP, without its query (no token or `since` in it). */
export function handshakeCheckUrl(socketUrl: string): string {
  const url = new URL(socketUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  url.search = '';
  url.hash = '';
  return url.toString();
}

export function verdictOf(status: number): HandshakeVerdict {
  if (status === 401) return 'refused';
  return status >= 200 && status < 300 ? 'accepted' : 'unknown';
}

/** The browser's check, on `fetch` (not `HttpClient`: the app's interceptors must not see or refresh it). */
export function fetchHandshakeCheck(fetchFn: typeof fetch | null): HandshakeCheck {
  return (socketUrl, token) => {
    if (!fetchFn) return of('unknown');
    return new Observable<HandshakeVerdict>((subscriber) => {
      const controller = new AbortController();
      fetchFn(handshakeCheckUrl(socketUrl), {
        headers: { authorization: `Bearer ${token}` },
        cache: 'no-store',
        credentials: 'omit',
        signal: controller.signal,
      })
        .then(
          (response) => verdictOf(response.status),
          (): HandshakeVerdict => 'unknown',
        )
        .then((verdict) => {
          subscriber.next(verdict);
          subscriber.complete();
        });
      return () => controller.abort();
    });
  };
}
