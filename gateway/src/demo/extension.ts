/**
 * The payments demo as a gateway extension: users and login (`/api/auth/*`, with its throttling),
 * the payments API (`/api/payments`), the payment-room rule, the revocation check of its login
 * sessions, and what it learns from the bus (payment owners). Wired by `npm start` (demo.ts) and
 * by `npm run gateway` with DEMO_USERS=true (main.ts); nothing of it exists otherwise.
 */
import type { GatewayExtensionFactory } from '../extension.ts';
import { createDomain } from './domain.ts';
import { authRoutes } from './routes/auth.ts';
import { paymentRoutes } from './routes/payments.ts';
import { DEMO_USERS } from './users/demo-users.ts';

export const demoExtension: GatewayExtensionFactory = async ({ config, logger, metrics, verifier, key, publish, connectRedis }) => {
  const domain = await createDomain(config, connectRedis, publish, logger);
  return {
    routes: [
      authRoutes({
        users: domain.users,
        sessions: domain.sessions,
        loginThrottle: domain.loginThrottle,
        key,
        verifier,
        metrics,
        publish,
        accessTokenTtlSeconds: config.accessTokenTtlSeconds,
        ...(config.demoUsers && { demoAccounts: DEMO_USERS }),
      }),
      paymentRoutes(domain.payments, domain.paymentQuota, verifier, metrics),
    ],
    roomAccess: { payment: domain.paymentAccess },
    isSessionRevoked: (sessionId) => domain.sessions.isRevoked(sessionId),
    onEvent: (_room, event) => domain.notePaymentEvent(event),
    close: () => domain.close(),
  };
};
