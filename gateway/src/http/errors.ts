/**
 * One place renders every HTTP error as `{"error": {"code", "message"}}`, with a code from
 * the protocol's table. Handlers throw (`ctx.throw(400, message)`); they never build error bodies.
 */
import type { Middleware } from 'koa';
import { ERROR_CODES, type ErrorCode } from '@payments-system/protocol';
import type { Logger } from '../logger.ts';

const CODE_BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
};

interface HttpErrorLike {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  code?: unknown;
  message?: string;
  headers?: Record<string, string>;
}

export function errorRenderer(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = { error: { code: 'NOT_FOUND', message: `no route for ${ctx.method} ${ctx.path}` } };
      }
    } catch (caught) {
      const error = (typeof caught === 'object' && caught !== null ? caught : {}) as HttpErrorLike;
      const status = error.status ?? error.statusCode ?? 500;
      // 4xx messages are for the client; 5xx ones only when the error says so (a 503 that means "retry").
      const expose = status < 500 ? error.expose !== false : error.expose === true;
      const code = isErrorCode(error.code) ? error.code : (CODE_BY_STATUS[status] ?? 'INTERNAL');
      if (status >= 500) logger.error({ err: caught, path: ctx.path }, 'request failed');
      ctx.set(error.headers ?? {});
      ctx.status = status;
      ctx.body = { error: { code, message: expose && error.message ? error.message : 'internal error' } };
    }
  };
}

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}
