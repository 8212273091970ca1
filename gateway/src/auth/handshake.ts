/**
 * Where a WebSocket handshake carries its token: the `bearer` subprotocol
 * (`Sec-WebSocket-Protocol: bearer, <JWT>`), or the `?token=` query parameter.
 */
import type { IncomingMessage } from 'node:http';
import { BEARER_SUBPROTOCOL, SINCE_QUERY_PARAM, TOKEN_QUERY_PARAM, WS_PATH } from '@payments-system/protocol';

export interface HandshakeTarget {
  readonly pathname: string;
  readonly token: string | undefined;
  /** `?since=`: the last event id of a client that will resume (unvalidated). */
  readonly since: string | undefined;
}

export function readHandshake(request: IncomingMessage): HandshakeTarget {
  const subprotocolToken = tokenFromSubprotocols(request.headers['sec-websocket-protocol']);
  // What the library sends on a first connect: nothing to normalize or decode, so no URL parse.
  if (request.url === WS_PATH) return { pathname: WS_PATH, token: subprotocolToken, since: undefined };
  // The base only satisfies the URL parser; the host header is never trusted here.
  const url = new URL(request.url ?? '/', 'http://gateway.invalid');
  return {
    pathname: url.pathname,
    token: subprotocolToken ?? (url.searchParams.get(TOKEN_QUERY_PARAM) || undefined),
    since: url.searchParams.get(SINCE_QUERY_PARAM) ?? undefined,
  };
}

function tokenFromSubprotocols(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const offered = header.split(',').map((protocol) => protocol.trim());
  const index = offered.indexOf(BEARER_SUBPROTOCOL);
  return index >= 0 ? offered[index + 1] || undefined : undefined;
}

/** The subprotocol the gateway answers with: `bearer` when offered, never the token itself. */
export function selectSubprotocol(offered: ReadonlySet<string>): string | false {
  return offered.has(BEARER_SUBPROTOCOL) ? BEARER_SUBPROTOCOL : false;
}
