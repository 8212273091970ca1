/**
 * Serves the built Angular app: hashed bundles cached for a year (their names change with their
 * content), everything else revalidated, and index.html for any other GET outside the API so
 * that deep links reach the client-side router.
 */
import { basename } from 'node:path';
import type { Context, Middleware } from 'koa';
import { send } from '@koa/send';

type SendOptions = NonNullable<Parameters<typeof send>[2]>;

const HASHED_ASSET = /-[A-Z0-9]{8,}\.(?:js|css|mjs)$/i;
const NOT_THE_APP = /^\/(?:api|ws|metrics)(?:\/|$)/;

export function staticApp(root: string): Middleware {
  return async (ctx, next) => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || NOT_THE_APP.test(ctx.path)) return next();
    const served = await sendFile(ctx, ctx.path, {
      root,
      index: 'index.html',
      setHeaders: (res, path) => {
        res.setHeader(
          'Cache-Control',
          HASHED_ASSET.test(basename(path)) ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    });
    if (served) return;
    // A file-like path that does not exist is a real 404; anything else is a client-side route.
    if (/\.[a-z0-9]+$/i.test(ctx.path)) return next();
    if (!(await sendFile(ctx, 'index.html', { root, setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache') }))) {
      ctx.throw(404, 'not found');
    }
  };
}

/**
 * `send`, with its errors turned into ours, so that nothing of the server's file system reaches
 * the client (@koa/send's 404 carries `ENOENT ... stat '<path>'`): a missing file is `undefined`
 * (the caller decides), a path that leaves the folder or does not decode is a 400 of our wording.
 * Other failures (EACCES, EIO) stay errors: a 500 without their message, logged with it.
 */
async function sendFile(ctx: Context, path: string, options: SendOptions): Promise<string | undefined> {
  try {
    return await send(ctx, path, options);
  } catch (error) {
    const status = (error as { status?: number }).status ?? 500;
    if (status === 404) return undefined;
    if (status >= 400 && status < 500) return ctx.throw(400, 'invalid path');
    throw error;
  }
}
