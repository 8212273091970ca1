/**
 * One log line per HTTP request, with a request id (taken from X-Request-Id when it is sane)
 * that handlers log under too. Only the path is logged: query strings may hold tokens.
 */
import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from '../logger.ts';

const SANE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export interface RequestState {
  log: Logger;
  requestId: string;
  /** Fields a handler adds to the request's one log line (an event id, say). */
  logFields?: Record<string, unknown>;
}

export function requestLog(logger: Logger): Middleware<RequestState> {
  return async (ctx, next) => {
    const header = ctx.get('x-request-id');
    const requestId = SANE_REQUEST_ID.test(header) ? header : randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.log = logger.child({ requestId });
    ctx.set('X-Request-Id', requestId);
    const started = performance.now();
    try {
      await next();
    } finally {
      ctx.state.log.info(
        {
          method: ctx.method,
          path: ctx.path,
          status: ctx.status,
          ms: Math.round((performance.now() - started) * 10) / 10,
          ...ctx.state.logFields,
        },
        'http request',
      );
    }
  };
}
