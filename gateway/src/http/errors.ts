/**
 * One place renders every HTTP error as `{"error": {"code", "message"}}`, with a code from
 * the protocol's table. Handlers throw (`ctx.throw(400, message)`); they never build error bodies.
 *
 * A message reaches the client only when it was written for it: a 4xx thrown with a message, or a
 * 5xx that says so (`expose`, a 503 that means "retry"). Never a system error's (they name files
 * and addresses of the server), and never an unexpected error's, which is logged and counted
 * instead. Error answers are never cached.
 */
import type { Middleware } from 'koa';
import { ERROR_CODES, type ErrorCode } from '@payments-system/protocol';
import type { Logger } from '../logger.ts';
import type { GatewayMetrics } from '../metrics.ts';

/** The HTTP status each error code is answered with; the compiler wants one for every code of the protocol. */
const HTTP_STATUS: { readonly [C in ErrorCode]: number } = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  HEADERS_TOO_LARGE: 431,
  INTERNAL: 500,
  SERVICE_UNAVAILABLE: 503,
};
const CODE_BY_STATUS: ReadonlyMap<number, ErrorCode> = new Map(ERROR_CODES.map((code) => [HTTP_STATUS[code], code]));

interface HttpErrorLike {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  code?: unknown;
  message?: string;
  headers?: Record<string, string>;
  /** Set on Node's system errors (ENOENT, EACCES, ...). */
  syscall?: string;
}

export function errorRenderer(logger: Logger, metrics: GatewayMetrics): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      // An error status set without a body (no route matched, @koa/router's 405/501): Koa would
      // answer with the status text as plain text.
      if (ctx.status >= 400 && ctx.body == null) {
        // 501 is the router's word for a method it does not know: for the client, not allowed here.
        const status = ctx.status === 501 ? 405 : ctx.status;
        const code = CODE_BY_STATUS.get(status) ?? 'INTERNAL';
        ctx.status = status;
        ctx.set('Cache-Control', 'no-store');
        ctx.body = { error: { code, message: status === 404 ? `no route for ${ctx.method} ${ctx.path}` : CODE_MESSAGE[code] } };
      }
    } catch (caught) {
      const error = (typeof caught === 'object' && caught !== null ? caught : {}) as HttpErrorLike;
      const given = error.status ?? error.statusCode;
      const status = typeof given === 'number' && given >= 400 && given <= 599 ? given : 500;
      // 4xx messages are for the client; 5xx ones only when the error says so (a 503 that means "retry").
      const expose = error.syscall === undefined && (status < 500 ? error.expose !== false : error.expose === true);
      const code = isErrorCode(error.code) ? error.code : (CODE_BY_STATUS.get(status) ?? 'INTERNAL');
      if (status >= 500) {
        if (!expose) metrics.internalErrors.inc({ source: 'http' });
        logger.error({ err: caught, path: ctx.path }, 'request failed');
      }
      ctx.set(error.headers ?? {});
      ctx.set('Cache-Control', 'no-store');
      ctx.status = status;
      ctx.body = { error: { code, message: expose && error.message ? error.message : status < 500 ? CODE_MESSAGE[code] : 'internal error' } };
    }
  };
}

/** What a client reads when an error carries no message meant for it. */
const CODE_MESSAGE: Readonly<Record<ErrorCode, string>> = {
  BAD_REQUEST: 'bad request',
  UNAUTHORIZED: 'unauthorized',
  FORBIDDEN: 'forbidden',
  NOT_FOUND: 'not found',
  METHOD_NOT_ALLOWED: 'method not allowed',
  REQUEST_TIMEOUT: 'request timeout',
  CONFLICT: 'conflict',
  PAYLOAD_TOO_LARGE: 'payload too large',
  HEADERS_TOO_LARGE: 'headers too large',
  RATE_LIMITED: 'too many requests',
  SERVICE_UNAVAILABLE: 'service unavailable; retry',
  INTERNAL: 'internal error',
};

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}
