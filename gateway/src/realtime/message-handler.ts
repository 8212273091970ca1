/**
 * Client frames: rate limit, parse, authorize, answer. Bad input is answered with an
 * `error` message and the socket stays open; only a flood closes it (1008). Every answer goes
 * out through the socket's bounded send path (`Outbound`), like the room events.
 */
import { WebSocket, type RawData } from 'ws';
import {
  CloseCode,
  CLOSE_CODE_INFO,
  parseClientMessage,
  type ClientMessage,
  type ErrorPayload,
  type ServerMessageType,
  type ServerPayloads,
} from '@payments-system/protocol';
import { canJoin, type PaymentAccess } from '../auth/room-policy.ts';
import type { Logger } from '../logger.ts';
import type { GatewayMetrics } from '../metrics.ts';
import type { Connection, ConnectionLimits } from './connection.ts';
import { serverMessage } from './messages.ts';
import type { Outbound } from './outbound.ts';
import { msUntilToken, takeToken } from './rate-limit.ts';
import type { Room } from '@payments-system/protocol';

export interface MessageContext {
  readonly limits: ConnectionLimits;
  readonly outbound: Outbound;
  readonly paymentAccess: PaymentAccess;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  join(connection: Connection, room: Room): void;
  leave(connection: Connection, room: Room): void;
  canResume(connection: Connection): boolean;
  resume(connection: Connection, since: string, correlationId: string | undefined): void;
}

export function handleClientFrame(context: MessageContext, connection: Connection, data: RawData, isBinary: boolean): void {
  // Frames already buffered when the socket started closing (after a flood, say) are dropped.
  if (connection.socket.readyState !== WebSocket.OPEN) return;
  if (!takeToken(connection.messages, context.limits.messages, Date.now())) {
    context.metrics.rateLimitCloses.inc();
    context.logger.warn({ connectionId: connection.id, userId: connection.claims.userId }, 'rate limit exceeded, closing');
    connection.socket.close(CloseCode.PolicyViolation, CLOSE_CODE_INFO[CloseCode.PolicyViolation].reason);
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
  const { correlationId } = message;
  switch (message.type) {
    case 'ping':
      reply(context, connection, 'pong', {}, correlationId);
      return;
    case 'subscribe': {
      const { room } = message.payload;
      if (!canJoin(connection.claims, room, context.paymentAccess)) {
        const error: ErrorPayload = { code: 'FORBIDDEN', room, message: `not allowed to join ${room}` };
        reply(context, connection, 'error', error, correlationId);
        return;
      }
      context.join(connection, room);
      reply(context, connection, 'subscribed', { room }, correlationId);
      return;
    }
    case 'unsubscribe': {
      const { room } = message.payload;
      context.leave(connection, room);
      reply(context, connection, 'unsubscribed', { room }, correlationId);
      return;
    }
    case 'resume': {
      if (!context.canResume(connection)) {
        context.metrics.resumes.inc({ outcome: 'in-progress' });
        reply(context, connection, 'error', { code: 'BAD_REQUEST', message: 'a resume is already in progress' }, correlationId);
        return;
      }
      if (!takeToken(connection.resumes, context.limits.resumes, Date.now())) {
        context.metrics.resumes.inc({ outcome: 'rate-limited' });
        const seconds = Math.ceil(msUntilToken(connection.resumes, context.limits.resumes) / 1000);
        reply(context, connection, 'error', { code: 'RATE_LIMITED', message: `too many resume requests; retry in ${seconds} s` }, correlationId);
        return;
      }
      context.resume(connection, message.payload.since, correlationId);
      return;
    }
  }
}

function badRequest(context: MessageContext, connection: Connection, message: string): void {
  reply(context, connection, 'error', { code: 'BAD_REQUEST', message });
}

/** Sends a reply; false when the socket is closing or was just found too slow (and nothing was sent). */
export function reply<K extends ServerMessageType>(
  context: Pick<MessageContext, 'metrics' | 'outbound'>,
  connection: Connection,
  type: K,
  payload: ServerPayloads[K],
  correlationId?: string,
): boolean {
  if (!context.outbound.sendText(connection, JSON.stringify(serverMessage(type, payload, correlationId)))) return false;
  context.metrics.messagesSent.inc({ type });
  return true;
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
