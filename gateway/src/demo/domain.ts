/**
 * The payments domain the demo runs on: users, login sessions, payments and the simulator.
 * In production these belong to other services; the gateway's realtime core does not depend on them.
 */
import type { PublishRequest, RoomEvent } from '@payments-system/protocol';
import type { Claims } from '../auth/tokens.ts';
import type { GatewayConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { GatewayServices } from '../extension.ts';
import { Quota } from './limits/quota.ts';
import { PaymentService } from './payments/payment-service.ts';
import { InMemoryPaymentStore, type PaymentStore } from './payments/payment-store.ts';
import { RedisPaymentStore } from './payments/redis-payment-store.ts';
import { PaymentSimulator } from './payments/simulator.ts';
import { RedisSessionStore } from './sessions/redis-session-store.ts';
import { InMemorySessionStore, type SessionStore } from './sessions/session-store.ts';
import { DEMO_USERS } from './users/demo-users.ts';
import { LoginThrottle } from './users/login-throttle.ts';
import { UserStore } from './users/user-store.ts';

/** Payments the demo's store holds in all; past it new ones are refused (503), nobody's are dropped. */
const DEMO_MAX_PAYMENTS = 100_000;

/** Payment owners remembered for room checks (about 100 bytes each). */
const MAX_KNOWN_OWNERS = 100_000;

export interface Domain {
  readonly users: UserStore;
  readonly sessions: SessionStore;
  readonly payments: PaymentService;
  readonly simulator: PaymentSimulator | undefined;
  /** Login attempts per account and per client address (429 past them). */
  readonly loginThrottle: LoginThrottle;
  /** Payment creations per user (429 past it). */
  readonly paymentQuota: Quota;
  /**
   * Whether a user may watch `payment:<id>`: the owner may. Answered from the owners this gateway
   * has seen (its own creations and every `payment:updated` on the bus, see `notePaymentEvent`),
   * since a room check runs on every subscribe and must not wait for a store.
   */
  paymentAccess(claims: Claims, paymentId: string): boolean;
  /** Learns a payment's owner from an event on the bus (owners never change). */
  notePaymentEvent(event: RoomEvent): void;
  close(): Promise<void>;
}

export async function createDomain(
  config: GatewayConfig,
  connectRedis: GatewayServices['connectRedis'],
  publish: (request: PublishRequest) => Promise<string>,
  logger: Logger,
): Promise<Domain> {
  const users = new UserStore();
  if (config.demoUsers) await Promise.all(DEMO_USERS.map((user) => users.add(user)));
  let sessions: SessionStore;
  if (connectRedis) {
    const shared = new RedisSessionStore(connectRedis({ name: 'sessions', failFast: true }), config.refreshTokenTtlSeconds);
    await shared.connect();
    sessions = shared;
  } else {
    sessions = new InMemorySessionStore(config.refreshTokenTtlSeconds);
  }
  const paymentLimits = { maxPerOwner: config.paymentsMaxPerUser, maxTotal: DEMO_MAX_PAYMENTS };
  let store: PaymentStore = new InMemoryPaymentStore(paymentLimits);
  let closeStore = async (): Promise<void> => undefined;
  if (connectRedis) {
    const shared = new RedisPaymentStore(connectRedis({ name: 'payments', failFast: true }), paymentLimits);
    await shared.connect();
    store = shared;
    closeStore = () => shared.close();
  }
  // Quotas are counted in Redis when there is one, so that every gateway counts together. Its
  // errors surface on each command (each gateway then counts alone); it reconnects by itself.
  const quotaConnection = connectRedis?.({ name: 'quotas', failFast: true });
  await quotaConnection?.connect();
  const quotaStore = quotaConnection?.native;
  const loginThrottle = new LoginThrottle(
    {
      maxAttemptsPerAccount: config.loginMaxAttemptsPerAccount,
      maxAttemptsPerAddress: config.loginMaxAttemptsPerAddress,
      windowSeconds: config.loginThrottleWindowSeconds,
    },
    quotaStore,
  );
  const paymentQuota = new Quota({ name: 'payment-create', points: config.paymentsPerUserPerMinute, windowSeconds: 60 }, quotaStore);
  const payments = new PaymentService(store, publish, logger);
  const owners = new Map<string, string>();
  const simulator =
    config.simulatorIntervalMs > 0 ? new PaymentSimulator(payments, { intervalMs: config.simulatorIntervalMs }, logger) : undefined;
  simulator?.start();
  return {
    users,
    sessions,
    payments,
    simulator,
    loginThrottle,
    paymentQuota,
    paymentAccess: (claims, paymentId) => owners.get(paymentId) === claims.userId,
    notePaymentEvent(event) {
      if (event.type !== 'payment:updated' || event.payload.ownerId === undefined || owners.has(event.payload.paymentId)) return;
      owners.set(event.payload.paymentId, event.payload.ownerId);
      if (owners.size > MAX_KNOWN_OWNERS) owners.delete(owners.keys().next().value as string);
    },
    async close() {
      simulator?.stop();
      await sessions.close();
      await closeStore();
      quotaConnection?.destroy();
    },
  };
}
