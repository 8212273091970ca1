/** `unsubscribe`: leaves a room (answered even when the socket was not in it). */
import type { ClientMessage } from '@payments-system/protocol';
import type { Connection } from '../connection.ts';
import type { MessageContext } from '../message-handler.ts';
import { reply } from '../reply.ts';

export function handleUnsubscribe(context: MessageContext, connection: Connection, message: ClientMessage<'unsubscribe'>): void {
  const { correlationId, payload: { room } } = message;
  context.leave(connection, room);
  reply(context, connection, 'unsubscribed', { room }, correlationId);
}
