/**
 * Client frames: rate limit, parse, authorize, answer. Bad input is answered with an
 * `error` message and the socket stays open; only a flood closes it (1008).
 */
import type { RawData } from 'ws';
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
import type { Connection } from './connection.ts';
import { serverMessage } from './messages.ts';
import { takeMessageToken, type RateLimit } from './rate-limit.ts';
import type { RoomRegistry } from './room-registry.ts';

export interface MessageContext {
  readonly rooms: RoomRegistry;
  readonly rateLimit: RateLimit;
  readonly paymentAccess: PaymentAccess;
  readonly logger: Logger;
}

export function handleClientFrame(context: MessageContext, connection: Connection, data: RawData, isBinary: boolean): void {
  connection.alive = true;
  if (!takeMessageToken(connection, context.rateLimit, Date.now())) {
    context.logger.warn({ connectionId: connection.id, userId: connection.claims.userId }, 'rate limit exceeded, closing');
    connection.socket.close(CloseCode.PolicyViolation, CLOSE_CODE_INFO[CloseCode.PolicyViolation].reason);
    return;
  }
  if (isBinary) {
    badRequest(connection, 'binary frames are not supported; send JSON text');
    return;
  }
  const parsed = parseClientMessage(rawText(data));
  if (!parsed.ok) {
    badRequest(connection, parsed.error);
    return;
  }
  dispatch(context, connection, parsed.value);
}

function dispatch(context: MessageContext, connection: Connection, message: ClientMessage): void {
  const { correlationId } = message;
  switch (message.type) {
    case 'ping':
      reply(connection, 'pong', {}, correlationId);
      return;
    case 'subscribe': {
      const { room } = message.payload;
      if (!canJoin(connection.claims, room, context.paymentAccess)) {
        const error: ErrorPayload = { code: 'FORBIDDEN', room, message: `not allowed to join ${room}` };
        reply(connection, 'error', error, correlationId);
        return;
      }
      context.rooms.join(connection, room);
      reply(connection, 'subscribed', { room }, correlationId);
      return;
    }
    case 'unsubscribe': {
      const { room } = message.payload;
      context.rooms.leave(connection, room);
      reply(connection, 'unsubscribed', { room }, correlationId);
      return;
    }
  }
}

function badRequest(connection: Connection, message: string): void {
  reply(connection, 'error', { code: 'BAD_REQUEST', message });
}

function reply<K extends ServerMessageType>(
  connection: Connection,
  type: K,
  payload: ServerPayloads[K],
  correlationId?: string,
): void {
  connection.socket.send(JSON.stringify(serverMessage(type, payload, correlationId)));
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
