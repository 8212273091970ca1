/**
 * `presence {room, watch?}`: who is in a `user:` or `payment:` room, on every gateway (the schema
 * refuses other room kinds with BAD_REQUEST). A socket may ask about the rooms it may join
 * (auth/room-policy.ts), without joining them; others get FORBIDDEN. With `watch: true` the socket
 * then gets `presence:joined` / `presence:left` for the room; without it, it stops getting them.
 */
import type { ClientMessage, ErrorPayload } from '@payments-system/protocol';
import { canJoin } from '../../auth/room-policy.ts';
import type { Connection } from '../connection.ts';
import type { MessageContext } from '../message-handler.ts';
import { reply } from '../reply.ts';

export function handlePresence(context: MessageContext, connection: Connection, message: ClientMessage<'presence'>): void {
  const { correlationId, payload: { room, watch = false } } = message;
  if (!canJoin(connection.claims, room, context.roomAccess)) {
    context.metrics.presenceRequests.inc({ outcome: 'forbidden' });
    const error: ErrorPayload = { code: 'FORBIDDEN', room, message: `not allowed to see who is in ${room}` };
    reply(context, connection, 'error', error, correlationId);
    return;
  }
  context.presence.request(connection, room, watch, correlationId);
}
