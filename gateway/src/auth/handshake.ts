/**
 * Where a WebSocket handshake carries its token: the `bearer` subprotocol
 * (`Sec-WebSocket-Protocol: bearer, <JWT>`), or the `?token=` query parameter.
 *
 * Total: any request target and any header value give a reading or a refusal with a message,
 * never an exception (this runs on the server's 'upgrade' event, for unauthenticated clients).
 * A handshake that says two different things (two tokens, two resume positions) is refused rather
 * than one of them picked: which one a proxy, a log or the client meant is anybody's guess.
 */
import type { IncomingMessage } from 'node:http';
import { BEARER_SUBPROTOCOL, SINCE_QUERY_PARAM, TOKEN_QUERY_PARAM, WS_PATH } from '@payments-system/protocol';
import { lacksHost, MISSING_HOST } from '../http/host-header.ts';

export interface HandshakeTarget {
  readonly ok: true;
  readonly pathname: string;
  readonly token: string | undefined;
  /** `?since=`: the last event id of a client that will resume (unvalidated). */
  readonly since: string | undefined;
}

export interface HandshakeProblem {
  readonly ok: false;
  /** For the client: what is wrong with the handshake (never echoes a token). */
  readonly message: string;
}

/** Only satisfies the URL parser; the Host header is never trusted here. */
const ORIGIN = 'http://gateway.invalid';

export function readHandshake(request: IncomingMessage): HandshakeTarget | HandshakeProblem {
  if (lacksHost(request)) return problem(MISSING_HOST);
  const offered = tokenFromSubprotocols(request.headers['sec-websocket-protocol']);
  if (offered === AMBIGUOUS) return problem(`offer the ${BEARER_SUBPROTOCOL} subprotocol once`);
  const target = request.url ?? '';
  // What the library sends on a first connect: nothing to normalize or decode, so no URL parse.
  if (target === WS_PATH) return { ok: true, pathname: WS_PATH, token: offered, since: undefined };
  const url = parseTarget(target);
  if (url === undefined) return problem(`the request target must be a path such as ${WS_PATH}`);
  const queryToken = single(url.searchParams, TOKEN_QUERY_PARAM);
  const since = single(url.searchParams, SINCE_QUERY_PARAM);
  if (queryToken === AMBIGUOUS) return problem(`send ?${TOKEN_QUERY_PARAM}= once`);
  if (since === AMBIGUOUS) return problem(`send ?${SINCE_QUERY_PARAM}= once`);
  const token = queryToken || undefined;
  if (offered !== undefined && token !== undefined && offered !== token) {
    return problem(`the token in the ${BEARER_SUBPROTOCOL} subprotocol and ?${TOKEN_QUERY_PARAM}= differ; send one`);
  }
  return { ok: true, pathname: url.pathname, token: offered ?? token, since };
}

/** The subprotocol the gateway answers with: `bearer` when offered, never the token itself. */
export function selectSubprotocol(offered: ReadonlySet<string>): string | false {
  return offered.has(BEARER_SUBPROTOCOL) ? BEARER_SUBPROTOCOL : false;
}

const AMBIGUOUS = Symbol('ambiguous');

function problem(message: string): HandshakeProblem {
  return { ok: false, message };
}

/**
 * An origin-form target (`/path?query`) against a fixed origin, so a target can never name a host
 * (`//evil/ws` stays a path) and dot segments resolve like a browser's. Anything else is no target.
 */
function parseTarget(target: string): URL | undefined {
  if (!target.startsWith('/')) return undefined;
  try {
    return new URL(`${ORIGIN}${target}`);
  } catch {
    return undefined; // not reachable with a fixed origin and a leading '/'; kept total regardless
  }
}

function single(params: URLSearchParams, name: string): string | undefined | typeof AMBIGUOUS {
  const values = params.getAll(name);
  if (values.length > 1 && values.some((value) => value !== values[0])) return AMBIGUOUS;
  return values[0];
}

function tokenFromSubprotocols(header: string | undefined): string | undefined | typeof AMBIGUOUS {
  if (!header) return undefined;
  const offered = header.split(',').map((protocol) => protocol.trim());
  const index = offered.indexOf(BEARER_SUBPROTOCOL);
  if (index < 0) return undefined;
  if (offered.indexOf(BEARER_SUBPROTOCOL, index + 1) >= 0) return AMBIGUOUS;
  return offered[index + 1] || undefined;
}
