/** `ping`: the application-level liveness check browsers can make (they never see protocol pings). */
import type { ClientMessage } from '@payments-system/protocol';
import type { Connection } from '../connection.ts';
import type { MessageContext } from '../message-handler.ts';
import { reply } from '../reply.ts';

export function handlePing(context: MessageContext, connection: Connection, message: ClientMessage<'ping'>): void {
  reply(context, connection, 'pong', {}, message.correlationId);
}
