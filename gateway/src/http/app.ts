/** The Koa application: request log, error rendering, body parsing, the API routes, the app. */
import Koa, { type Middleware } from 'koa';
import { bodyParser } from '@koa/bodyparser';
import type { Logger } from '../logger.ts';
import { errorRenderer } from './errors.ts';
import { requestLog } from './request-log.ts';
import { staticApp } from './static-app.ts';

export interface HttpAppDependencies {
  readonly logger: Logger;
  readonly maxBodyBytes: number;
  /** API routers, mounted in order. */
  readonly routers: readonly MountableRouter[];
  /** Folder of the built Angular app to serve, if any. */
  readonly staticDir?: string | undefined;
}

/**
 * What Koa needs of a @koa/router Router. Routers differ in their `ctx.state` types, which
 * are invariant in Router's own type; the state is set up by each router's own middleware.
 */
interface MountableRouter {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  routes(): Middleware<any, any>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  allowedMethods(): Middleware<any, any>;
}

export function createHttpApp(deps: HttpAppDependencies): Koa {
  const app = new Koa();
  app.proxy = true; // behind nginx: trust X-Forwarded-For/Proto for ctx.ip and ctx.protocol
  app.silent = true; // errors are rendered and logged by errorRenderer, not printed by Koa
  app
    .use(requestLog(deps.logger))
    .use(errorRenderer(deps.logger))
    .use(bodyParser({ enableTypes: ['json'], jsonLimit: deps.maxBodyBytes, encoding: 'utf-8' }));
  for (const router of deps.routers) app.use(router.routes()).use(router.allowedMethods());
  if (deps.staticDir) app.use(staticApp(deps.staticDir));
  return app;
}
