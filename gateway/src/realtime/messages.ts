/** Builds server messages: the envelope every frame shares, stamped once. */
import type { ServerMessage, ServerMessageType, ServerPayloads } from '@payments-system/protocol';

export function serverMessage<K extends ServerMessageType>(
  type: K,
  payload: ServerPayloads[K],
  correlationId?: string,
): ServerMessage<K> {
  const message = { type, payload, timestamp: new Date().toISOString() } as { -readonly [P in keyof ServerMessage<K>]: ServerMessage<K>[P] };
  if (correlationId !== undefined) message.correlationId = correlationId;
  return message as ServerMessage<K>;
}
