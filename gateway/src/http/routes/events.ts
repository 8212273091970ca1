/**
 * `POST /api/events`: how other services publish room events (admin tokens only). An
 * `Idempotency-Key` header makes a retry after an ambiguous failure (a timeout, a 503 after Redis
 * saved the event) return the first id instead of publishing the event twice.
 */
import { Router } from '@koa/router';
import { parsePublishRequest } from '@payments-system/protocol';
import { BusUnavailable, type Bus } from '../../bus/bus.ts';
import type { TokenVerifier } from '../../auth/tokens.ts';
import type { GatewayMetrics } from '../../metrics.ts';
import { requireBearer, type AuthState } from '../bearer-auth.ts';

const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,128}$/;

export function eventRoutes(bus: Bus, verifier: TokenVerifier, metrics: GatewayMetrics): Router<AuthState> {
  return new Router<AuthState>().post('/api/events', requireBearer(verifier, metrics, 'ADMIN'), async (ctx) => {
    if (!ctx.is('application/json')) return ctx.throw(400, 'body must be application/json');
    const request = parsePublishRequest(ctx.request.body);
    if (!request.ok) return ctx.throw(400, request.error);
    const idempotencyKey = ctx.get('idempotency-key') || undefined;
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      return ctx.throw(400, 'Idempotency-Key must be 1-128 characters of A-Z a-z 0-9 . _ : -');
    }
    let id: string;
    try {
      id = await bus.publish(request.value, idempotencyKey === undefined ? {} : { idempotencyKey });
    } catch (error) {
      if (!(error instanceof BusUnavailable)) throw error;
      metrics.eventsRefused.inc({ reason: error.reason });
      ctx.state.log.warn({ err: error.message, reason: error.reason }, 'publish refused: bus unavailable');
      ctx.set('Retry-After', '1');
      return ctx.throw(503, 'event bus unavailable; retry', { expose: true });
    }
    metrics.eventsPublished.inc({ type: request.value.type });
    // On the request's own log line, which ties the request id to the event id and correlationId.
    ctx.state.logFields = { eventId: id, room: request.value.room, type: request.value.type, correlationId: request.value.correlationId };
    ctx.status = 202;
    ctx.body = { id };
  });
}
