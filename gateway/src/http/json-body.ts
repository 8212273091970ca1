/**
 * JSON request bodies (@koa/bodyparser, read as UTF-8 whatever the charset says), with its errors
 * turned into ours: a client learns what was wrong with its body (too large, cut short, not JSON),
 * never the parser's own message (`Unexpected token } in JSON at position 12`).
 */
import { bodyParser } from '@koa/bodyparser';
import type { Middleware } from 'koa';

interface ParserError {
  readonly status?: number;
  readonly type?: string;
}

export function jsonBody(maxBytes: number): Middleware {
  return bodyParser({
    enableTypes: ['json'],
    jsonLimit: maxBytes,
    encoding: 'utf-8',
    onError: (error, ctx) => {
      const { status = 500, type } = error as ParserError;
      if (status >= 500) throw error; // rendered as a 500 without its message, and logged
      if (status === 413) return ctx.throw(413, `body larger than ${maxBytes} bytes`);
      if (type === 'request.aborted' || type === 'request.size.invalid') return ctx.throw(400, 'body ended before its Content-Length');
      return ctx.throw(400, 'body is not valid JSON');
    },
  });
}
