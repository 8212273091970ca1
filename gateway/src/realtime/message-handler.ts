/**
 * Client frames: rate limit, parse, dispatch. Bad input is answered with an `error` message and
 * the socket stays open; only a flood closes it (1008). Every answer goes out through the socket's
 * bounded send path (`Outbound`), like the room events.
 *
 * Each message type has its own handler module (handlers/); a new type in the protocol fails to
 * compile here until it has a case and a module.
 */
import { WebSocket, type RawData } from 'ws';
import { assertNever, CloseCode, parseClientMessage, type ClientMessage, type Room } from '@payments-system/protocol';
import type { RoomAccessRules } from '../auth/room-policy.ts';
import type { Claims } from '../auth/tokens.ts';
import type { Logger } from '../logger.ts';
import type { GatewayMetrics } from '../metrics.ts';
import { closeWith } from './close.ts';
import type { Connection, ConnectionLimits } from './connection.ts';
import { handleAuth } from './handlers/auth.ts';
import { handlePing } from './handlers/ping.ts';
import { handlePresence } from './handlers/presence.ts';
import { handleResume } from './handlers/resume.ts';
import { handleSubscribe } from './handlers/subscribe.ts';
import { handleUnsubscribe } from './handlers/unsubscribe.ts';
import type { Outbound } from './outbound.ts';
import type { RoomPresence } from './presence.ts';
import { fullBucket, takeToken } from './rate-limit.ts';
import { reply } from './reply.ts';

/** What message handlers may use: the hub gives one to all of its connections. */
export interface MessageContext {
  readonly limits: ConnectionLimits;
  readonly outbound: Outbound;
  readonly roomAccess: RoomAccessRules;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** The clock, in milliseconds since the epoch. */
  now(): number;
  join(connection: Connection, room: Room): void;
  leave(connection: Connection, room: Room): void;
  canResume(connection: Connection): boolean;
  /**
   * How far live delivery to the socket has got (an event id): every later event of its rooms reaches it live or by a
   * replay from here. Undefined while a resume is pending (`?since=`) or being replayed for it.
   */
  position(connection: Connection): string | undefined;
  resume(connection: Connection, since: string, correlationId: string | undefined): void;
  /** Checks a token as a handshake's is checked (signature, lifetime, skew, revocation); throws or rejects with an AuthFailure. */
  authenticate(token: string): Claims | Promise<Claims>;
  /** Gives the socket the renewed credentials of its user and moves its 4001 deadline; false when it is closing or gone. */
  renew(connection: Connection, claims: Claims): boolean;
  readonly presence: Pick<RoomPresence, 'request'>;
  /** A handler failed for this connection after its frame was handled (in a promise): log, count, close 1011. */
  failed(connection: Connection, error: unknown, what: string): void;
}

export function handleClientFrame(context: MessageContext, connection: Connection, data: RawData, isBinary: boolean): void {
  // Frames already buffered when the socket started closing (after a flood, say) are dropped.
  if (connection.socket.readyState !== WebSocket.OPEN) return;
  const now = context.now();
  if (!takeToken((connection.messages ??= fullBucket(context.limits.messages, now)), context.limits.messages, now)) {
    context.metrics.rateLimitCloses.inc();
    context.logger.warn({ connectionId: connection.id, userId: connection.claims.userId }, 'rate limit exceeded, closing');
    closeWith(connection, CloseCode.PolicyViolation);
    return;
  }
  if (isBinary) {
    context.metrics.messagesReceived.inc({ type: 'invalid' });
    badRequest(context, connection, 'binary frames are not supported; send JSON text');
    return;
  }
  const parsed = parseClientMessage(rawText(data));
  if (!parsed.ok) {
    context.metrics.messagesReceived.inc({ type: 'invalid' });
    badRequest(context, connection, parsed.error);
    return;
  }
  context.metrics.messagesReceived.inc({ type: parsed.value.type });
  dispatch(context, connection, parsed.value);
}

function dispatch(context: MessageContext, connection: Connection, message: ClientMessage): void {
  switch (message.type) {
    case 'ping':
      return handlePing(context, connection, message);
    case 'subscribe':
      return handleSubscribe(context, connection, message);
    case 'unsubscribe':
      return handleUnsubscribe(context, connection, message);
    case 'resume':
      return handleResume(context, connection, message);
    case 'auth':
      return handleAuth(context, connection, message);
    case 'presence':
      return handlePresence(context, connection, message);
    default:
      return assertNever(message, 'client message type');
  }
}

function badRequest(context: MessageContext, connection: Connection, message: string): void {
  reply(context, connection, 'error', { code: 'BAD_REQUEST', message });
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
