/**
 * The HTTP upgrade to a WebSocket. Everything that can refuse a socket (path, draining,
 * Origin, token) is decided here, before `handleUpgrade`, so a refused client gets an
 * HTTP status and never a 101.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import { isEventId, SINCE_QUERY_PARAM, WS_PATH, type ErrorCode } from '@payments-system/protocol';
import { readHandshake } from '../auth/handshake.ts';
import { AuthFailure, type Claims, type TokenVerifier } from '../auth/tokens.ts';
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
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  readonly isDraining: () => boolean;
}

export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

export function createUpgradeHandler(deps: UpgradeDependencies): UpgradeHandler {
  const allowedOrigins = new Set(deps.allowedOrigins);
  const refuse = (socket: Duplex, status: number, code: ErrorCode, message: string): void => {
    deps.metrics.handshakesRefused.inc({ status });
    writeRefusal(socket, status, code, message);
  };
  const refuseCredentials = (request: IncomingMessage, socket: Duplex, error: unknown): void => {
    if (!(error instanceof AuthFailure)) {
      deps.logger.error({ err: error, ...describePeer(request) }, 'handshake failed');
      return refuse(socket, 503, 'SERVICE_UNAVAILABLE', 'cannot check credentials now; retry');
    }
    deps.metrics.authFailures.inc({ reason: error.reason });
    deps.logger.warn({ reason: error.reason, ...describePeer(request) }, 'handshake refused: invalid credentials');
    refuse(socket, 401, 'UNAUTHORIZED', error.message);
  };
  return (request, socket, head) => {
    socket.on('error', ignoreSocketError);
    const { pathname, token, since } = readHandshake(request);
    if (pathname !== WS_PATH) return refuse(socket, 404, 'NOT_FOUND', `no WebSocket endpoint at ${pathname}; use ${WS_PATH}`);
    if (since !== undefined && !isEventId(since)) {
      return refuse(socket, 400, 'BAD_REQUEST', `${SINCE_QUERY_PARAM} must be an event id such as "1765447200000-0"`);
    }
    if (deps.isDraining()) return refuse(socket, 503, 'SERVICE_UNAVAILABLE', 'gateway is shutting down');
    // Browsers always send Origin; a client without one is not a browser page and still needs a token.
    const origin = request.headers.origin;
    if (allowedOrigins.size > 0 && origin !== undefined && !allowedOrigins.has(origin)) {
      deps.logger.warn({ origin, ...describePeer(request) }, 'handshake refused: origin not allowed');
      return refuse(socket, 403, 'FORBIDDEN', 'origin not allowed');
    }
    const complete = (claims: Claims): void =>
      deps.wss.handleUpgrade(request, socket, head, (ws) => deps.hub.accept(ws, claims, since));
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
        .catch((error: unknown) => {
          deps.logger.error({ err: error }, 'upgrade failed');
          socket.destroy();
        });
    }
    else complete(claims);
  };
}

function writeRefusal(socket: Duplex, status: number, code: ErrorCode, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      (status === 401 ? 'WWW-Authenticate: Bearer\r\n' : '') +
      `\r\n${body}`,
  );
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
