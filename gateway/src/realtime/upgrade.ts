/**
 * The HTTP upgrade to a WebSocket. Everything that can refuse a socket (path, target, draining,
 * Origin, token, the user's socket cap) is decided here, before `handleUpgrade`, so a refused
 * client gets an HTTP status and never a 101.
 *
 * Total: this runs on the server's 'upgrade' event, for clients nobody has authenticated yet, and
 * an exception there would end the process. Bad input has its own refusal (400, 401, ...); anything
 * else that throws is logged and counted and refused with 500 (or, after the 101, ends that socket),
 * and the gateway serves on.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { isEventId, SINCE_QUERY_PARAM, WS_PATH, type ErrorCode } from '@payments-system/protocol';
import { readHandshake } from '../auth/handshake.ts';
import { AuthFailure, type Claims, type TokenVerifier } from '../auth/tokens.ts';
import { writeRawError } from '../http/raw-response.ts';
import type { Logger } from '../logger.ts';
import type { GatewayMetrics } from '../metrics.ts';
import type { GatewaySocket } from './connection.ts';
import type { RealtimeHub } from './hub.ts';

export interface UpgradeDependencies {
  /** The `ws` server (noServer mode) that completes accepted handshakes. */
  readonly wss: {
    handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, done: (socket: GatewaySocket) => void): void;
  };
  readonly hub: RealtimeHub;
  readonly verifier: TokenVerifier;
  readonly allowedOrigins: readonly string[];
  /** Open sockets one user may hold on this gateway; the next handshake gets 429. */
  readonly maxSocketsPerUser: number;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  readonly isDraining: () => boolean;
}

export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** Why a handshake was refused: the `reason` label of gateway_handshakes_refused_total. */
type RefusalReason = 'bad_request' | 'not_found' | 'draining' | 'origin' | 'credentials' | 'auth_unavailable' | 'socket_cap' | 'internal';

export function createUpgradeHandler(deps: UpgradeDependencies): UpgradeHandler {
  const allowedOrigins = new Set(deps.allowedOrigins);
  const refuse = (socket: Duplex, status: number, reason: RefusalReason, code: ErrorCode, message: string, headers?: Record<string, string>): void => {
    deps.metrics.handshakesRefused.inc({ status, reason });
    writeRawError(socket, status, code, message, headers);
  };
  const refuseCredentials = (request: IncomingMessage, socket: Duplex, error: unknown): void => {
    if (!(error instanceof AuthFailure)) {
      deps.logger.error({ err: error, ...describePeer(request) }, 'handshake failed');
      return refuse(socket, 503, 'auth_unavailable', 'SERVICE_UNAVAILABLE', 'cannot check credentials now; retry');
    }
    deps.metrics.authFailures.inc({ reason: error.reason });
    deps.logger.warn({ reason: error.reason, ...describePeer(request) }, 'handshake refused: invalid credentials');
    refuse(socket, 401, 'credentials', 'UNAUTHORIZED', error.message, { 'WWW-Authenticate': 'Bearer' });
  };
  /** Something threw: before the 101 the client gets a 500, after it the socket is ended. */
  const fail = (request: IncomingMessage, socket: Duplex, error: unknown, upgraded: boolean): void => {
    deps.metrics.internalErrors.inc({ source: 'upgrade' });
    deps.logger.error({ err: error, ...describePeer(request) }, 'upgrade failed');
    if (!upgraded && socket.writable) refuse(socket, 500, 'internal', 'INTERNAL', 'internal error');
    else socket.destroy();
  };

  const upgrade = (request: IncomingMessage, socket: Duplex, head: Buffer, state: { upgraded: boolean }): void => {
    const handshake = readHandshake(request);
    if (!handshake.ok) return refuse(socket, 400, 'bad_request', 'BAD_REQUEST', handshake.message);
    const { pathname, token, since } = handshake;
    if (pathname !== WS_PATH) return refuse(socket, 404, 'not_found', 'NOT_FOUND', `no WebSocket endpoint at this path; use ${WS_PATH}`);
    if (since !== undefined && !isEventId(since)) {
      return refuse(socket, 400, 'bad_request', 'BAD_REQUEST', `${SINCE_QUERY_PARAM} must be an event id such as "1765447200000-0"`);
    }
    if (deps.isDraining()) return refuse(socket, 503, 'draining', 'SERVICE_UNAVAILABLE', 'gateway is shutting down');
    // Browsers always send Origin; a client without one is not a browser page and still needs a token.
    const origin = request.headers.origin;
    if (allowedOrigins.size > 0 && origin !== undefined && !allowedOrigins.has(origin)) {
      deps.logger.warn({ origin: origin.slice(0, 200), ...describePeer(request) }, 'handshake refused: origin not allowed');
      return refuse(socket, 403, 'origin', 'FORBIDDEN', 'origin not allowed');
    }
    const complete = (claims: Claims): void => {
      // Checked in the same turn as the socket is registered (handleUpgrade completes synchronously),
      // so concurrent handshakes of one user cannot pass the cap together.
      if (deps.hub.socketsOf(claims.userId) >= deps.maxSocketsPerUser) {
        deps.logger.warn({ userId: claims.userId, ...describePeer(request) }, 'handshake refused: too many sockets for this user');
        return refuse(socket, 429, 'socket_cap', 'RATE_LIMITED', `too many open sockets for this user (at most ${deps.maxSocketsPerUser}); close one first`, {
          'Retry-After': '5',
        });
      }
      deps.wss.handleUpgrade(request, socket, head, (ws) => {
        state.upgraded = true;
        deps.hub.accept(ws, claims, since);
      });
    };
    let claims: Claims | Promise<Claims>;
    try {
      claims = deps.verifier.authenticate(token);
    } catch (error) {
      return refuseCredentials(request, socket, error);
    }
    // Synchronous for the in-memory session store; a Redis session check answers later.
    if (claims instanceof Promise) {
      claims
        .then(complete, (error: unknown) => refuseCredentials(request, socket, error))
        .catch((error: unknown) => fail(request, socket, error, state.upgraded));
    } else complete(claims);
  };

  return (request, socket, head) => {
    socket.on('error', ignoreSocketError);
    const state = { upgraded: false };
    try {
      upgrade(request, socket, head, state);
    } catch (error) {
      fail(request, socket, error, state.upgraded);
    }
  };
}

/**
 * Handshakes `ws` itself refuses once ours passed them (wrong method, a missing or malformed
 * Sec-WebSocket-Key, -Version or -Protocol header): the same JSON refusal as every other, counted.
 * `ws`'s message names the header the client got wrong, nothing of the server.
 */
export function refuseMalformedHandshake(metrics: GatewayMetrics): (error: Error, socket: Duplex) => void {
  return (error, socket) => {
    const method = error.message === 'Invalid HTTP method';
    const status = method ? 405 : 400;
    metrics.handshakesRefused.inc({ status, reason: 'bad_request' });
    writeRawError(socket, status, method ? 'METHOD_NOT_ALLOWED' : 'BAD_REQUEST', error.message, {
      ...(method && { Allow: 'GET' }),
      ...(/Version/.test(error.message) && { 'Sec-WebSocket-Version': '13, 8' }),
    });
  };
}

/**
 * Who is knocking, for the log: the proxy's address, the client's as the proxy forwarded it, and
 * the request id nginx assigned, so that a gateway line can be matched with nginx's.
 */
function describePeer(request: IncomingMessage): { remoteAddress?: string; forwardedFor?: string; requestId?: string } {
  const forwardedFor = request.headers['x-forwarded-for'];
  const requestId = request.headers['x-request-id'];
  return {
    ...(request.socket.remoteAddress && { remoteAddress: request.socket.remoteAddress }),
    ...(typeof forwardedFor === 'string' && { forwardedFor: forwardedFor.slice(0, 200) }),
    ...(typeof requestId === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(requestId) && { requestId }),
  };
}

function ignoreSocketError(): void {
  // A client that vanishes mid-handshake must not crash the process; nothing else to do.
}
