/** Validates a request body with a zod schema; a mismatch is a 400 whose message names the fields. */
import type { Context } from 'koa';
import type { z } from 'zod';

export function validBody<S extends z.ZodType>(ctx: Context, schema: S): z.infer<S> {
  if (!ctx.is('application/json')) return ctx.throw(400, 'body must be application/json');
  const result = schema.safeParse(ctx.request.body);
  if (result.success) return result.data;
  const message = result.error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
  return ctx.throw(400, message);
}
