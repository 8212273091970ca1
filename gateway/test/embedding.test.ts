/**
 * The gateway core without the payments demo, and what an embedder plugs into it (extension.ts):
 * no demo route and no demo Redis client unless the demo is wired; tokens of another identity
 * provider work without it; routes, room rules, a revocation check and event hooks come in
 * through one extension.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Router } from '@koa/router';
import { createClient } from 'redis';
import type { Room, RoomEvent } from '@payments-system/protocol';
import { RedisBus } from '../src/bus/redis-bus.ts';
import { createLogger } from '../src/logger.ts';
import { GatewayMetrics } from '../src/metrics.ts';
import { RedisPresenceStore } from '../src/presence/redis-presence-store.ts';
import { startRedis, type RedisServer } from './bus/redis-server.ts';
import { connect, refusedHandshake } from './support/client.ts';
import { ADMIN, ALICE, body, callApi, eventually, publish, startDemoGateway, startTestGateway } from './support/gateway.ts';
import { listeningUrl, spawnGateway } from './support/process.ts';

const DEMO_ROUTES: ReadonlyArray<[string, string]> = [
  ['POST', '/api/auth/login'],
  ['POST', '/api/auth/refresh'],
  ['POST', '/api/auth/logout'],
  ['GET', '/api/auth/demo-accounts'],
  ['GET', '/api/payments'],
  ['POST', '/api/payments'],
  ['PATCH', '/api/payments/pay_1'],
];

describe('the core alone', () => {
  it('answers 404 NOT_FOUND on every demo route', async () => {
    const gateway = await startTestGateway({ demoUsers: true });
    for (const [method, path] of DEMO_ROUTES) {
      const response = await callApi(gateway, method, path, gateway.token(ADMIN), method === 'GET' ? undefined : {});
      assert.equal(response.status, 404, `${method} ${path}`);
      assert.equal((await body(response)).error?.code, 'NOT_FOUND');
    }
  });

  it('accepts tokens of another identity provider, session ids included, without a revocation check', async () => {
    const gateway = await startTestGateway();
    const client = await connect(gateway.wsUrl, gateway.token({ ...ALICE, sessionId: 'idp-session-1' }));
    assert.equal((await client.request({ type: 'ping' })).type, 'pong');
    const event = { room: 'user:alice', type: 'system:broadcast', payload: { message: 'hi', level: 'info' } };
    assert.equal((await publish(gateway, event, gateway.token({ ...ADMIN, sessionId: 'idp-session-2' }))).status, 202);
    assert.equal((await client.next('system:broadcast')).type, 'system:broadcast');
  });

  it('refuses every non-admin a payment room without a rule for it', async () => {
    const gateway = await startTestGateway();
    const client = await connect(gateway.wsUrl, gateway.token(ALICE));
    const answer = await client.request({ type: 'subscribe', payload: { room: 'payment:pay_1' } });
    assert.equal(answer.type, 'error');
  });
});

describe('an extension', () => {
  it('mounts its routes, decides its room kinds, revokes its sessions and sees every event', async () => {
    const seen: Array<[Room, RoomEvent['type']]> = [];
    let closed = 0;
    const gateway = await startTestGateway({
      extension: ({ verifier }) => ({
        routes: [new Router().get('/api/whoami', (ctx) => (ctx.body = verifier.verify(ctx.get('authorization').slice(7))))],
        roomAccess: { payment: (claims, paymentId) => claims.userId === 'alice' && paymentId === 'pay_alice' },
        isSessionRevoked: (sessionId) => Promise.resolve(sessionId === 'ended'),
        onEvent: (room, event) => void seen.push([room, event.type]),
        close: async () => void closed++,
      }),
    });
    const whoami = await callApi(gateway, 'GET', '/api/whoami', gateway.token(ALICE));
    assert.equal(((await whoami.json()) as { userId: string }).userId, 'alice');

    const alice = await connect(gateway.wsUrl, gateway.token({ ...ALICE, sessionId: 'current' }));
    assert.equal((await alice.request({ type: 'subscribe', payload: { room: 'payment:pay_alice' } })).type, 'subscribed');
    assert.equal((await alice.request({ type: 'subscribe', payload: { room: 'payment:pay_bob' } })).type, 'error');

    const refused = await refusedHandshake(gateway.wsUrl, gateway.token({ ...ALICE, sessionId: 'ended' }));
    assert.equal(refused.status, 401);
    assert.equal((await callApi(gateway, 'POST', '/api/events', gateway.token({ ...ADMIN, sessionId: 'ended' }), {})).status, 401);

    const event = { room: 'payment:pay_alice', type: 'system:broadcast', payload: { message: 'hi', level: 'info' } };
    assert.equal((await publish(gateway, event)).status, 202);
    await alice.next('system:broadcast');
    await eventually(() => seen.length === 1, 'the hook to see the event');
    assert.deepEqual(seen, [['payment:pay_alice', 'system:broadcast']]);
    await gateway.close();
    assert.equal(closed, 1);
  });

  it('closes the sockets of a user on a session:sync logout from any publisher, without the demo', async () => {
    const gateway = await startTestGateway();
    const alice = await connect(gateway.wsUrl, gateway.token(ALICE));
    const logout = { room: 'user:alice', type: 'session:sync', payload: { userId: 'alice', sessionId: 's1', action: 'logout' } };
    assert.equal((await publish(gateway, logout)).status, 202);
    assert.equal((await alice.closed).code, 4003);
  });
});

describe('Redis clients', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis({ persistent: false });
  });
  after(() => redis.dispose());

  /** Clients connected to the test's Redis, this test's own CLIENT LIST connection excluded. */
  async function clientCount(): Promise<number> {
    const probe = createClient({ url: redis.url });
    await probe.connect();
    try {
      const list = await probe.sendCommand<string>(['CLIENT', 'LIST']);
      return list.trim().split('\n').length - 1;
    } finally {
      probe.destroy();
    }
  }

  /** Resolves once Redis has seen every closed client go (it drops them asynchronously). */
  async function noClientsLeft(): Promise<void> {
    const deadline = Date.now() + 5000;
    while ((await clientCount()) > 0) assert.ok(Date.now() < deadline, 'closed clients to leave Redis');
  }

  it('the core opens only its bus and presence clients; the demo opens its own', async () => {
    const bus = new RedisBus({ redis: redis.settings, retention: { count: 100, roomCount: 101, ageMs: 60_000, bytes: 0 }, logger: createLogger('silent') });
    await bus.start(() => undefined);
    const busClients = await clientCount();
    await bus.close();
    assert.ok(busClients > 0);
    await noClientsLeft();
    const presence = new RedisPresenceStore({ redis: redis.settings, logger: createLogger('silent'), metrics: new GatewayMetrics(() => new Map()), deadAfterMs: 40_000 });
    await presence.start({ change: () => undefined, lost: () => undefined }, { list: () => [], rooms: () => [] });
    const presenceClients = await clientCount();
    await presence.close();
    assert.ok(presenceClients > 0);
    await noClientsLeft();

    const core = await startTestGateway({ redisUrl: redis.url });
    assert.equal(await clientCount(), busClients + presenceClients, 'the core: the bus and presence clients only');
    await core.close();
    await noClientsLeft();

    const demo = await startDemoGateway({ redisUrl: redis.url });
    assert.ok((await clientCount()) > busClients + presenceClients, 'the demo: its sessions, payments and quotas too');
    await demo.close();
  });
});

describe('npm run gateway', () => {
  const secret = 'e'.repeat(64);
  for (const [demoUsers, status] of [['false', 404], ['true', 401]] as const) {
    it(`answers /api/payments and /api/auth/login with ${status} when DEMO_USERS=${demoUsers}`, async () => {
      const gateway = spawnGateway({ JWT_SECRET: secret, DEMO_USERS: demoUsers });
      const url = listeningUrl(await gateway.waitForLine(/listening/));
      assert.equal((await fetch(`${url}/api/payments`)).status, status);
      const login = await fetch(`${url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'alice@demo.test', password: 'alice-demo' }),
      });
      assert.equal(login.status, demoUsers === 'true' ? 200 : 404);
      gateway.child.kill('SIGTERM');
      assert.equal((await gateway.exited).code, 0);
    });
  }
});
