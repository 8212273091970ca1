/**
 * HTTP/1.1 requires a Host header (RFC 9112 §3.2). Node answers a request without one itself, with
 * an empty 400 that carries none of the gateway's headers, so the server is created with
 * `requireHostHeader: false` and the check is made here, for the Koa app and the upgrade alike.
 */
import type { IncomingMessage } from 'node:http';
import type { Middleware } from 'koa';

export const MISSING_HOST = 'a Host header is required (HTTP/1.1)';

export function lacksHost(request: IncomingMessage): boolean {
  return request.httpVersionMajor === 1 && request.httpVersionMinor >= 1 && request.headers.host === undefined;
}

/** Koa middleware: 400 BAD_REQUEST for an HTTP/1.1 request without Host, rendered like every error. */
export function requireHost(): Middleware {
  return async (ctx, next) => {
    if (lacksHost(ctx.req)) ctx.throw(400, MISSING_HOST);
    await next();
  };
}
