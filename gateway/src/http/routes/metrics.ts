/**
 * `GET /metrics` in Prometheus text format, for the scraper only. With METRICS_TOKEN set it takes
 * `Authorization: Bearer <METRICS_TOKEN>` (Prometheus' `authorization` setting), from anywhere;
 * without one it answers loopback clients only, and not through a proxy (a request that carries
 * forwarding headers came from somewhere else). nginx does not proxy it either.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from '@koa/router';
import type { Context } from 'koa';
import type { GatewayMetrics } from '../../metrics.ts';

export interface MetricsAccess {
  /** METRICS_TOKEN; undefined serves loopback clients only. */
  readonly token: string | undefined;
}

export function metricsRoutes(metrics: GatewayMetrics, access: MetricsAccess): Router {
  const expected = access.token === undefined ? undefined : digest(access.token);
  return new Router().get('/metrics', async (ctx) => {
    if (expected === undefined) {
      if (!fromLoopback(ctx)) ctx.throw(403, 'metrics are served to loopback clients only; set METRICS_TOKEN to scrape over the network');
    } else {
      const [scheme, token] = ctx.get('authorization').split(' ');
      // Digests of equal length, so the comparison takes the same time whatever was sent.
      if (scheme?.toLowerCase() !== 'bearer' || !token || !timingSafeEqual(digest(token), expected)) {
        ctx.throw(401, 'metrics need Authorization: Bearer <METRICS_TOKEN>', { headers: { 'WWW-Authenticate': 'Bearer' } });
      }
    }
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

const FORWARDING_HEADERS = ['x-forwarded-for', 'x-real-ip', 'forwarded'];

/** The peer itself (never a forwarded address) is this host, and no proxy relayed the request. */
export function fromLoopback(ctx: Pick<Context, 'req' | 'get'>): boolean {
  const address = ctx.req.socket.remoteAddress ?? '';
  const loopback = address === '::1' || /^(?:::ffff:)?127\./.test(address);
  return loopback && FORWARDING_HEADERS.every((name) => ctx.get(name) === '');
}
