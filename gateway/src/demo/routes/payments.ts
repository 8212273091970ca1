/**
 * The payments API: list (admins all, others their own), create (customers, within a per-user
 * quota: PAYMENTS_PER_USER_PER_MINUTE), change status (admins).
 */
import { Router } from '@koa/router';
import { z } from 'zod';
import { NEW_PAYMENT_AMOUNT_PATTERN, PAYMENT_CURRENCIES, PAYMENT_STATUSES } from '@payments-system/protocol';
import type { TokenVerifier } from '../../auth/tokens.ts';
import type { Quota } from '../limits/quota.ts';
import type { PaymentService } from '../payments/payment-service.ts';
import { IllegalTransition, PaymentNotFound } from '../payments/payment-store.ts';
import type { GatewayMetrics } from '../../metrics.ts';
import { requireBearer, type AuthState } from '../../http/bearer-auth.ts';
import { validBody } from '../../http/validation.ts';

const createBody = z.object({
  amount: z
    .string({ error: 'must be a decimal string such as "12.50"' })
    .regex(NEW_PAYMENT_AMOUNT_PATTERN, 'must be a decimal string with at most 2 decimals, such as "12.50"')
    .refine((amount) => Number(amount) > 0, 'must be greater than 0'),
  currency: z.enum(PAYMENT_CURRENCIES),
  description: z.string().trim().min(1, 'must not be empty').max(280),
});
const statusBody = z.object({ status: z.enum(PAYMENT_STATUSES) });

export function paymentRoutes(payments: PaymentService, quota: Quota, verifier: TokenVerifier, metrics: GatewayMetrics): Router<AuthState> {
  return new Router<AuthState>({ prefix: '/api/payments' })
    .use(requireBearer(verifier, metrics))
    .get('/', async (ctx) => {
      const { role, userId } = ctx.state.claims;
      ctx.body = { payments: await payments.store.list(role === 'ADMIN' ? undefined : userId) };
    })
    .post('/', async (ctx) => {
      if (ctx.state.claims.role !== 'CUSTOMER') return ctx.throw(403, 'only customers create payments');
      const body = validBody(ctx, createBody);
      const admission = await quota.take(ctx.state.claims.userId);
      if (!admission.ok) {
        metrics.paymentsThrottled.inc();
        const retryAfter = String(admission.retryAfterSeconds);
        return ctx.throw(429, `too many payments created; retry in ${retryAfter} s`, { headers: { 'Retry-After': retryAfter } });
      }
      ctx.status = 201;
      ctx.body = await payments.create({ ...body, ownerId: ctx.state.claims.userId }, ctx.state.requestId);
    })
    .patch('/:paymentId', async (ctx) => {
      if (ctx.state.claims.role !== 'ADMIN') return ctx.throw(403, 'only admins change a payment status');
      const { status } = validBody(ctx, statusBody);
      try {
        ctx.body = await payments.changeStatus(ctx.params['paymentId'] ?? '', status, ctx.state.requestId);
      } catch (error) {
        if (error instanceof PaymentNotFound) return ctx.throw(404, error.message);
        if (error instanceof IllegalTransition) return ctx.throw(409, error.message);
        throw error;
      }
    });
}
