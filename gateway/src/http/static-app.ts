/**
 * Serves the built Angular app: hashed bundles cached for a year (their names change with their
 * content), everything else revalidated, and index.html for any other GET outside the API so
 * that deep links reach the client-side router.
 */
import { basename } from 'node:path';
import type { Middleware } from 'koa';
import { send } from '@koa/send';

const HASHED_ASSET = /-[A-Z0-9]{8,}\.(?:js|css|mjs)$/i;
const NOT_THE_APP = /^\/(?:api|ws|metrics)(?:\/|$)/;

export function staticApp(root: string): Middleware {
  return async (ctx, next) => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || NOT_THE_APP.test(ctx.path)) return next();
    const served = await send(ctx, ctx.path, {
      root,
      index: 'index.html',
      setHeaders: (res, path) => {
        res.setHeader(
          'Cache-Control',
          HASHED_ASSET.test(basename(path)) ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    }).catch((error: { status?: number }) => {
      if (error.status === 404) return undefined;
      throw error;
    });
    if (served) return;
    // A file-like path that does not exist is a real 404; anything else is a client-side route.
    if (/\.[a-z0-9]+$/i.test(ctx.path)) return next();
    await send(ctx, 'index.html', { root, setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache') });
  };
}
