/**
 * `auth {token}`: in-band refresh. The token is checked by the verifier that checks handshakes
 * (signature, algorithm, lifetime, clock skew, revocation); accepted, it replaces the socket's
 * credentials and moves its 4001 deadline to the new `exp`, and nothing else changes (rooms,
 * a held or running replay, delivery). Refused, the socket keeps its token and deadline:
 *
 * - invalid, forged, expired or revoked → UNAUTHORIZED (the verifier's reason as the message);
 * - valid, but another user, role or login session → FORBIDDEN. A socket belongs to one login
 *   session: its rooms were authorized, and its resume position kept, for that session, and a
 *   logout ends the session's sockets. A token of another session (another `sid`, or a `sid` where
 *   there was none) is a new login: the client reconnects with it instead;
 * - the revocation check cannot answer → SERVICE_UNAVAILABLE (retry);
 * - a second `auth` while one is being checked (only a revocation check that answers later makes
 *   that possible) → CONFLICT.
 *
 * An `auth` counts against the socket's message rate like any message (it costs one HMAC).
 */
import type { ClientMessage } from '@payments-system/protocol';
import { AuthFailure, type Claims } from '../../auth/tokens.ts';
import type { Connection } from '../connection.ts';
import type { MessageContext } from '../message-handler.ts';
import { reply } from '../reply.ts';

export function handleAuth(context: MessageContext, connection: Connection, message: ClientMessage<'auth'>): void {
  const { correlationId } = message;
  if (connection.authChecking) {
    context.metrics.tokenRenewals.inc({ outcome: 'conflict' });
    reply(context, connection, 'error', { code: 'CONFLICT', message: 'an auth is already being checked; wait for its answer' }, correlationId);
    return;
  }
  let checked: Claims | Promise<Claims>;
  try {
    checked = context.authenticate(message.payload.token);
  } catch (error) {
    refuse(context, connection, error, correlationId);
    return;
  }
  if (!(checked instanceof Promise)) {
    settle(context, connection, checked, correlationId);
    return;
  }
  connection.authChecking = true;
  checked
    .then(
      (claims) => {
        connection.authChecking = false;
        settle(context, connection, claims, correlationId);
      },
      (error: unknown) => {
        connection.authChecking = false;
        refuse(context, connection, error, correlationId);
      },
    )
    .catch((error: unknown) => context.failed(connection, error, 'auth handler failed'));
}

function settle(context: MessageContext, connection: Connection, claims: Claims, correlationId: string | undefined): void {
  const current = connection.claims;
  const other =
    claims.userId !== current.userId ? 'user' : claims.role !== current.role ? 'role' : claims.sessionId !== current.sessionId ? 'login session' : undefined;
  if (other !== undefined) {
    context.metrics.tokenRenewals.inc({ outcome: 'forbidden' });
    const message = `the token belongs to another ${other}; open a new socket with it`;
    reply(context, connection, 'error', { code: 'FORBIDDEN', message }, correlationId);
    return;
  }
  // False when the socket closed (or its 4001 fired) while a revocation check was answering.
  if (!context.renew(connection, claims)) return;
  context.metrics.tokenRenewals.inc({ outcome: 'accepted' });
  reply(context, connection, 'authenticated', { expiresAt: new Date(claims.exp * 1000).toISOString() }, correlationId);
}

function refuse(context: MessageContext, connection: Connection, error: unknown, correlationId: string | undefined): void {
  if (error instanceof AuthFailure) {
    context.metrics.authFailures.inc({ reason: error.reason });
    context.metrics.tokenRenewals.inc({ outcome: 'unauthorized' });
    reply(context, connection, 'error', { code: 'UNAUTHORIZED', message: error.message }, correlationId);
    return;
  }
  context.metrics.tokenRenewals.inc({ outcome: 'unavailable' });
  // Only the revocation check can fail here, and it is given the session id, never the credential itself.
  context.logger.error({ err: error, connectionId: connection.id, userId: connection.claims.userId }, 'auth: revocation check failed');
  reply(context, connection, 'error', { code: 'SERVICE_UNAVAILABLE', message: 'cannot check credentials now; retry' }, correlationId);
}
