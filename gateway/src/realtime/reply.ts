/** Answers to one client: replies, errors and the end of a replay, through the bounded send path. */
import type { ServerMessageType, ServerPayloads } from '@payments-system/protocol';
import type { GatewayMetrics } from '../metrics.ts';
import type { Connection } from './connection.ts';
import { serverMessage } from './messages.ts';
import type { Outbound } from './outbound.ts';

export interface ReplyContext {
  readonly outbound: Outbound;
  readonly metrics: GatewayMetrics;
}

/** Sends a reply; false when the socket is closing or was just found too slow (and nothing was sent). */
export function reply<K extends ServerMessageType>(
  context: ReplyContext,
  connection: Connection,
  type: K,
  payload: ServerPayloads[K],
  correlationId?: string,
): boolean {
  if (!context.outbound.sendText(connection, JSON.stringify(serverMessage(type, payload, correlationId)))) return false;
  context.metrics.messagesSent.inc({ type });
  return true;
}
