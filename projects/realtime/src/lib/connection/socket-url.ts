import { SINCE_QUERY_PARAM, TOKEN_QUERY_PARAM } from '@payments-system/protocol';

/** The part of the page's `location` a relative URL needs. */
export type PageLocation = Pick<Location, 'protocol' | 'host'>;

/**
 * The socket URL of one attempt. A path (`/ws`) is resolved on the page's origin (`wss` on https pages).
 * `since` (the last event id, not a secret) tells the gateway at the handshake that this socket will resume,
 * so it holds live events until the replay: none can overtake it. `queryToken` is set only with
 * `withQueryParamToken()`.
 */
export function socketUrl(base: string, location: PageLocation | null | undefined, queryToken: string | null, since: string | null): string {
  let url = base;
  if (url.startsWith('/')) {
    const scheme = location?.protocol === 'https:' ? 'wss' : 'ws';
    url = `${scheme}://${location?.host ?? 'localhost'}${url}`;
  }
  const params: string[] = [];
  if (since !== null) params.push(`${SINCE_QUERY_PARAM}=${encodeURIComponent(since)}`);
  if (queryToken !== null) params.push(`${TOKEN_QUERY_PARAM}=${encodeURIComponent(queryToken)}`);
  if (params.length === 0) return url;
  return `${url}${url.includes('?') ? '&' : '?'}${params.join('&')}`;
}
