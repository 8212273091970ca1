/**
 * Login, refresh and logout. Access tokens are short-lived JWTs; refresh tokens are opaque,
 * single use and rotated (see SessionStore). Logout ends every session of the user and tells
 * each of their sockets (`session:sync`), on every gateway, through the bus.
 */
import type { KeyObject } from 'node:crypto';
import { Router } from '@koa/router';
import { z } from 'zod';
import { userRoom, type DemoAccount, type PublishRequest, type TokenResponse } from '@payments-system/protocol';
import { signAccessToken, type TokenVerifier } from '../../auth/tokens.ts';
import { RefreshRefused, type SessionStore } from '../sessions/session-store.ts';
import type { LoginThrottle } from '../users/login-throttle.ts';
import type { User, UserStore } from '../users/user-store.ts';
import type { GatewayMetrics } from '../../metrics.ts';
import { requireBearer, type AuthState } from '../../http/bearer-auth.ts';
import { validBody } from '../../http/validation.ts';

export interface AuthRouteDependencies {
  readonly users: UserStore;
  readonly sessions: SessionStore;
  readonly loginThrottle: LoginThrottle;
  readonly key: KeyObject;
  readonly verifier: TokenVerifier;
  readonly metrics: GatewayMetrics;
  readonly accessTokenTtlSeconds: number;
  readonly publish: (request: PublishRequest) => Promise<string>;
  /** Listed at GET /api/auth/demo-accounts in demo mode only. */
  readonly demoAccounts?: ReadonlyArray<User & { readonly password: string }>;
}

const loginBody = z.object({ email: z.string().min(3).max(254), password: z.string().min(1).max(200) });
const refreshBody = z.object({ refreshToken: z.string().min(16).max(200) });

export function authRoutes(deps: AuthRouteDependencies): Router<AuthState> {
  const tokens = (user: User, sessionId: string, refreshToken: string): TokenResponse => ({
    accessToken: signAccessToken(deps.key, { ...user, sessionId }, { expiresInSeconds: deps.accessTokenTtlSeconds }),
    refreshToken,
    expiresIn: deps.accessTokenTtlSeconds,
    user,
  });

  return new Router<AuthState>({ prefix: '/api/auth' })
    .post('/login', async (ctx) => {
      const { email, password } = validBody(ctx, loginBody);
      // Before the password check: a throttled attempt costs no scrypt.
      const refusal = await deps.loginThrottle.admit(email, ctx.ip);
      if (refusal) {
        deps.metrics.loginsThrottled.inc({ scope: refusal.scope });
        ctx.state.log.warn({ scope: refusal.scope, retryAfterSeconds: refusal.retryAfterSeconds }, 'login throttled');
        const retryAfter = String(refusal.retryAfterSeconds);
        return ctx.throw(429, `too many login attempts; retry in ${retryAfter} s`, { headers: { 'Retry-After': retryAfter } });
      }
      const user = await deps.users.authenticate(email, password);
      if (!user) {
        deps.metrics.authFailures.inc({ reason: 'bad_credentials' });
        return ctx.throw(401, 'invalid email or password');
      }
      await deps.loginThrottle.succeeded(email);
      const { sessionId, refreshToken } = await deps.sessions.start(user.userId);
      ctx.state.log.info({ userId: user.userId, sessionId }, 'logged in');
      ctx.body = tokens(user, sessionId, refreshToken);
    })
    .post('/refresh', async (ctx) => {
      const { refreshToken } = validBody(ctx, refreshBody);
      try {
        const next = await deps.sessions.rotate(refreshToken);
        const user = deps.users.get(next.userId);
        if (!user) return ctx.throw(401, 'user no longer exists');
        ctx.body = tokens(user, next.sessionId, next.refreshToken);
      } catch (error) {
        if (!(error instanceof RefreshRefused)) throw error;
        deps.metrics.authFailures.inc({ reason: `refresh_${error.reason}` });
        ctx.state.log.warn({ reason: error.reason }, 'refresh refused');
        return ctx.throw(401, error.message);
      }
    })
    .post('/logout', requireBearer(deps.verifier, deps.metrics), async (ctx) => {
      const { userId, sessionId } = ctx.state.claims;
      const revoked = await deps.sessions.revokeUser(userId);
      await deps.publish({
        room: userRoom(userId),
        type: 'session:sync',
        payload: { userId, sessionId: sessionId ?? revoked[0] ?? 'none', action: 'logout' },
        correlationId: ctx.state.requestId,
      });
      ctx.state.log.info({ userId, sessionId, revokedSessions: revoked.length }, 'logged out');
      ctx.status = 204;
    })
    .get('/demo-accounts', (ctx) => {
      if (!deps.demoAccounts) return ctx.throw(404, 'demo accounts are listed in demo mode only');
      const accounts: DemoAccount[] = deps.demoAccounts.map(({ email, password, name, role }) => ({ email, password, name, role }));
      ctx.body = { accounts };
    });
}
