/**
 * The Koa application: request log, security headers, error rendering, body parsing, the API
 * routes, the app.
 */
import Koa, { type Middleware } from 'koa';
import type { Logger } from '../logger.ts';
import type { GatewayMetrics } from '../metrics.ts';
import { errorRenderer } from './errors.ts';
import { requireHost } from './host-header.ts';
import { jsonBody } from './json-body.ts';
import { requestLog } from './request-log.ts';
import { securityHeaders } from './security-headers.ts';
import { staticApp } from './static-app.ts';

export interface HttpAppDependencies {
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  readonly maxBodyBytes: number;
  /**
   * Proxies in front of the gateway (TRUST_PROXY_HOPS): the client address is the entry that many
   * places from the right of X-Forwarded-For, the one the outermost trusted proxy saw. 0 trusts no
   * header (the peer's address), since anyone can send X-Forwarded-For.
   */
  readonly trustProxyHops: number;
  /** API routers, mounted in order. */
  readonly routers: readonly MountableRouter[];
  /** Folder of the built Angular app to serve, if any. */
  readonly staticDir?: string | undefined;
}

/**
 * What Koa needs of a @koa/router Router. Routers differ in their `ctx.state` types, which
 * are invariant in Router's own type; the state is set up by each router's own middleware.
 */
export interface MountableRouter {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  routes(): Middleware<any, any>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  allowedMethods(): Middleware<any, any>;
}

/** The API's answers (and the metrics) are never stored by a browser or a proxy. */
const API = /^\/(?:api|metrics)(?:\/|$)/;

export function createHttpApp(deps: HttpAppDependencies): Koa {
  const app = new Koa();
  app.proxy = deps.trustProxyHops > 0;
  app.maxIpsCount = deps.trustProxyHops;
  app.silent = true; // errors are rendered and logged by errorRenderer, not printed by Koa
  app
    .use(requestLog(deps.logger))
    .use(securityHeaders())
    .use(errorRenderer(deps.logger, deps.metrics))
    .use(requireHost())
    .use(async (ctx, next) => {
      if (API.test(ctx.path)) ctx.set('Cache-Control', 'no-store');
      await next();
    })
    .use(jsonBody(deps.maxBodyBytes));
  for (const router of deps.routers) app.use(router.routes()).use(router.allowedMethods());
  if (deps.staticDir) app.use(staticApp(deps.staticDir));
  return app;
}
