/**
 * `resume {since}`: starts the replay of what the socket's rooms missed (replay.ts). One replay per
 * socket at a time, and few of them: a replay costs far more than a message (WS_RESUME_BURST,
 * WS_RESUMES_PER_MINUTE).
 *
 * `resume {}` (a client that has seen no event): answers `resumed` with the socket's position, so
 * that a client whose rooms stay quiet can still resume after a reconnect. No bus read, so only the
 * message rate limit applies.
 */
import type { ClientMessage } from '@payments-system/protocol';
import type { Connection } from '../connection.ts';
import type { MessageContext } from '../message-handler.ts';
import { fullBucket, msUntilToken, takeToken } from '../rate-limit.ts';
import { reply } from '../reply.ts';

export function handleResume(context: MessageContext, connection: Connection, message: ClientMessage<'resume'>): void {
  const { correlationId } = message;
  const { since } = message.payload;
  if (since === undefined) {
    const position = context.position(connection);
    if (position === undefined) {
      context.metrics.resumes.inc({ outcome: 'in-progress' });
      reply(context, connection, 'error', { code: 'BAD_REQUEST', message: 'a resume is pending or in progress; its reply gives the position' }, correlationId);
      return;
    }
    context.metrics.resumes.inc({ outcome: 'position' });
    reply(context, connection, 'resumed', { since: position, replayed: 0 }, correlationId);
    return;
  }
  if (!context.canResume(connection)) {
    context.metrics.resumes.inc({ outcome: 'in-progress' });
    reply(context, connection, 'error', { code: 'BAD_REQUEST', message: 'a resume is already in progress' }, correlationId);
    return;
  }
  const now = context.now();
  const budget = (connection.resumes ??= fullBucket(context.limits.resumes, now));
  if (!takeToken(budget, context.limits.resumes, now)) {
    context.metrics.resumes.inc({ outcome: 'rate-limited' });
    const seconds = Math.ceil(msUntilToken(budget, context.limits.resumes) / 1000);
    reply(context, connection, 'error', { code: 'RATE_LIMITED', message: `too many resume requests; retry in ${seconds} s` }, correlationId);
    return;
  }
  context.resume(connection, since, correlationId);
}
