/** `subscribe`: joins a room the user may watch (auth/room-policy.ts), or answers FORBIDDEN. */
import type { ClientMessage, ErrorPayload } from '@payments-system/protocol';
import { canJoin } from '../../auth/room-policy.ts';
import type { Connection } from '../connection.ts';
import type { MessageContext } from '../message-handler.ts';
import { reply } from '../reply.ts';

export function handleSubscribe(context: MessageContext, connection: Connection, message: ClientMessage<'subscribe'>): void {
  const { correlationId, payload: { room } } = message;
  if (!canJoin(connection.claims, room, context.roomAccess)) {
    const error: ErrorPayload = { code: 'FORBIDDEN', room, message: `not allowed to join ${room}` };
    reply(context, connection, 'error', error, correlationId);
    return;
  }
  context.join(connection, room);
  reply(context, connection, 'subscribed', { room }, correlationId);
}
