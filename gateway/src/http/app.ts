/** The Koa application: request log, error rendering, body parsing and the API routes. */
import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import type { Bus } from '../bus/bus.ts';
import type { TokenVerifier } from '../auth/tokens.ts';
import type { Logger } from '../logger.ts';
import type { GatewayMetrics } from '../metrics.ts';
import { errorRenderer } from './errors.ts';
import { requestLog } from './request-log.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes, type HealthSource } from './routes/health.ts';
import { metricsRoutes } from './routes/metrics.ts';

export interface HttpAppDependencies {
  readonly logger: Logger;
  readonly bus: Bus;
  readonly verifier: TokenVerifier;
  readonly health: HealthSource;
  readonly maxBodyBytes: number;
  readonly metrics: GatewayMetrics;
}

export function createHttpApp(deps: HttpAppDependencies): Koa {
  const app = new Koa();
  app.proxy = true; // behind nginx: trust X-Forwarded-For/Proto for ctx.ip and ctx.protocol
  app.silent = true; // errors are rendered and logged by errorRenderer, not printed by Koa
  const health = healthRoutes(deps.health);
  const events = eventRoutes(deps.bus, deps.verifier, deps.metrics);
  const metrics = metricsRoutes(deps.metrics);
  app
    .use(requestLog(deps.logger))
    .use(errorRenderer(deps.logger))
    .use(bodyParser({ enableTypes: ['json'], jsonLimit: deps.maxBodyBytes, encoding: 'utf-8' }))
    .use(health.routes())
    .use(health.allowedMethods())
    .use(metrics.routes())
    .use(events.routes())
    .use(events.allowedMethods({ throw: true }));
  return app;
}
