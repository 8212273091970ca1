/** `Authorization: Bearer <JWT>` for the HTTP API, with an optional role requirement. */
import type { Middleware } from 'koa';
import type { Role } from '@payments-system/protocol';
import { AuthFailure, type Claims, type TokenVerifier } from '../auth/tokens.ts';
import type { GatewayMetrics } from '../metrics.ts';
import type { RequestState } from './request-log.ts';

export interface AuthState extends RequestState {
  claims: Claims;
}

export function requireBearer(verifier: TokenVerifier, metrics: GatewayMetrics, role?: Role): Middleware<AuthState> {
  return async (ctx, next) => {
    const [scheme, token] = ctx.get('authorization').split(' ');
    try {
      ctx.state.claims = await verifier.authenticate(scheme?.toLowerCase() === 'bearer' ? token : undefined, { remember: true });
    } catch (error) {
      if (!(error instanceof AuthFailure)) throw error;
      metrics.authFailures.inc({ reason: error.reason });
      ctx.state.log.warn({ reason: error.reason }, 'http request refused: invalid credentials');
      ctx.throw(401, error.message, { headers: { 'WWW-Authenticate': 'Bearer' } });
    }
    if (role !== undefined && ctx.state.claims.role !== role) ctx.throw(403, `requires role ${role}`);
    await next();
  };
}
