/**
 * `GET /ws` without an upgrade: the handshake's verdict on a token, for clients that cannot read the status of a
 * refused handshake. Browsers hide it (a 401 looks like a dropped connection), so the Angular library asks here after
 * a failed handshake: 401 means "refresh the token", anything else "the token is fine, retry with backoff". Refusals
 * stay before the 101: the upgrade path is unchanged. Only the token is judged (signature, expiry, claims, session),
 * with the same verifier the upgrade uses.
 */
import { Router } from '@koa/router';
import { WS_PATH } from '@payments-system/protocol';
import type { TokenVerifier } from '../../auth/tokens.ts';
import type { GatewayMetrics } from '../../metrics.ts';
import { requireBearer, type AuthState } from '../bearer-auth.ts';

export function handshakeCheckRoutes(verifier: TokenVerifier, metrics: GatewayMetrics): Router<AuthState> {
  return new Router<AuthState>().get(WS_PATH, requireBearer(verifier, metrics), (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 204;
  });
}
