/** `GET /metrics` in Prometheus text format. Kept off the public edge: nginx does not proxy it. */
import { Router } from '@koa/router';
import type { GatewayMetrics } from '../../metrics.ts';

export function metricsRoutes(metrics: GatewayMetrics): Router {
  return new Router().get('/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
}
