/**
 * The payments domain the demo runs on: users, login sessions, payments and the simulator.
 * In production these belong to other services; the gateway's realtime core does not depend on them.
 */
import type { PublishRequest } from '@payments-system/protocol';
import type { Claims } from '../auth/tokens.ts';
import type { GatewayConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import { PaymentService } from './payments/payment-service.ts';
import { PaymentStore } from './payments/payment-store.ts';
import { PaymentSimulator } from './payments/simulator.ts';
import { RedisSessionStore } from './sessions/redis-session-store.ts';
import { InMemorySessionStore, type SessionStore } from './sessions/session-store.ts';
import { DEMO_USERS } from './users/demo-users.ts';
import { UserStore } from './users/user-store.ts';

export interface Domain {
  readonly users: UserStore;
  readonly sessions: SessionStore;
  readonly payments: PaymentService;
  readonly simulator: PaymentSimulator | undefined;
  /** Whether a user may watch `payment:<id>`: the owner may. */
  paymentAccess(claims: Claims, paymentId: string): boolean;
  close(): Promise<void>;
}

export async function createDomain(
  config: GatewayConfig,
  publish: (request: PublishRequest) => Promise<string>,
  logger: Logger,
): Promise<Domain> {
  const users = new UserStore();
  if (config.demoUsers) await Promise.all(DEMO_USERS.map((user) => users.add(user)));
  let sessions: SessionStore;
  if (config.redisUrl) {
    const shared = new RedisSessionStore(config.redisUrl, config.refreshTokenTtlSeconds);
    await shared.connect();
    sessions = shared;
  } else {
    sessions = new InMemorySessionStore(config.refreshTokenTtlSeconds);
  }
  const payments = new PaymentService(new PaymentStore(), publish, logger);
  const simulator =
    config.simulatorIntervalMs > 0 ? new PaymentSimulator(payments, { intervalMs: config.simulatorIntervalMs }, logger) : undefined;
  simulator?.start();
  return {
    users,
    sessions,
    payments,
    simulator,
    paymentAccess: (claims, paymentId) => payments.store.get(paymentId)?.ownerId === claims.userId,
    async close() {
      simulator?.stop();
      await sessions.close();
    },
  };
}
