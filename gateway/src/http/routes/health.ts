/**
 * Liveness (`/api/health`: the process answers) apart from readiness (`/api/ready`: it takes
 * new sockets), so a draining gateway stays alive while load balancers stop sending to it.
 */
import { Router } from '@koa/router';
import type { HubStats } from '../../realtime/hub.ts';

export interface HealthSource {
  stats(): HubStats;
  isDraining(): boolean;
}

export function healthRoutes(source: HealthSource): Router {
  const startedAt = Date.now();
  return new Router()
    .get('/api/health', (ctx) => {
      const stats = source.stats();
      ctx.body = {
        status: 'ok',
        connections: stats.connections,
        rooms: stats.rooms,
        presenceHandOvers: stats.presenceHandOvers,
        draining: source.isDraining(),
        uptimeSeconds: Math.floor((Date.now() - startedAt) / 1000),
      };
    })
    .get('/api/ready', (ctx) => {
      const draining = source.isDraining();
      ctx.status = draining ? 503 : 200;
      ctx.body = { status: draining ? 'draining' : 'ready' };
    });
}
