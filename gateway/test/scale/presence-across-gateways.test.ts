/**
 * Presence across gateways on one real redis-server: lists count every gateway's sockets, a user
 * joins on their first socket anywhere and leaves with their last one everywhere, a killed gateway
 * process (`kill -9`) has its members leave on the others within HEARTBEAT_INTERVAL_MS +
 * HEARTBEAT_TIMEOUT_MS + 5 s, Redis keeps only bounded, expiring presence keys (and nothing of it in
 * the event stream), and a Redis that comes back empty is filled again.
 *
 * "Nothing happened" is shown with a marker: the watcher also watches `user:marker`; a marker socket
 * opened and closed on the gateway that acted is written after the action (one gateway's writes go
 * out in order, and the changes come back on one channel in order), so whatever the action caused
 * arrives before the marker's `joined`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import type { PresenceRoom, ServerMessage } from '@payments-system/protocol';
import { signAccessToken } from '../../src/auth/tokens.ts';
import { presenceHeartbeatMs } from '../../src/presence/redis-presence-store.ts';
import { startRedis, type RedisServer } from '../bus/redis-server.ts';
import { connect, type TestClient } from '../support/client.ts';
import { ADMIN, ALICE, eventually, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { listeningUrl, spawnGateway } from '../support/process.ts';

const HEARTBEAT = { heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 500 };
const DEAD_AFTER_MS = HEARTBEAT.heartbeatIntervalMs + HEARTBEAT.heartbeatTimeoutMs;
const MARKER = { userId: 'marker', email: 'marker@demo.test', role: 'VENDOR' } as const;

type Change = [string, unknown];

async function watch(client: TestClient, room: PresenceRoom): Promise<ServerMessage> {
  const reply = await client.request({ type: 'presence', payload: { room, watch: true } });
  assert.equal(reply.type, 'presence', JSON.stringify(reply));
  return reply;
}

/** The presence changes `watcher` got because of what happened on `gateway` so far (see the header). */
async function changesCausedOn(watcher: TestClient, gateway: TestGateway): Promise<Change[]> {
  const marker = await connect(gateway.wsUrl, gateway.token(MARKER));
  const seen: Change[] = [];
  for (;;) {
    const message = await watcher.next(undefined, 5000);
    if (!message.type.startsWith('presence:')) continue;
    if ((message.payload as { userId: string }).userId === 'marker') break;
    seen.push([message.type, message.payload]);
  }
  await marker.close();
  await watcher.next('presence:left');
  return seen;
}

async function redisKeys(redis: RedisServer, pattern: string): Promise<Map<string, number>> {
  const client = createClient({ url: redis.url });
  await client.connect();
  try {
    const keys = await client.keys(pattern);
    return new Map(await Promise.all(keys.map(async (key) => [key, await client.pTTL(key)] as [string, number])));
  } finally {
    client.destroy();
  }
}

describe('presence across two gateways on one Redis', () => {
  let redis: RedisServer;
  let a: TestGateway;
  let b: TestGateway;
  let watcher: TestClient;
  before(async () => {
    redis = await startRedis({ persistent: false });
    const options = { jwtSecret: randomBytes(32).toString('hex'), redisUrl: redis.url, ...HEARTBEAT };
    [a, b] = [await startTestGateway(options), await startTestGateway(options)];
    watcher = await connect(a.wsUrl, a.token(ADMIN));
    await watch(watcher, 'user:marker');
  });

  it('a user joins with their first socket on any gateway and leaves with their last one on every gateway', async () => {
    assert.deepEqual((await watch(watcher, 'user:alice')).payload, { room: 'user:alice', members: [] });
    const onB = await connect(b.wsUrl, b.token(ALICE));
    assert.deepEqual(await changesCausedOn(watcher, b), [['presence:joined', { room: 'user:alice', userId: 'alice', role: 'CUSTOMER' }]]);
    const onA = await connect(a.wsUrl, a.token(ALICE));
    assert.deepEqual(await changesCausedOn(watcher, a), [], 'a second socket, on the other gateway');

    const listed = await watcher.request({ type: 'presence', payload: { room: 'user:alice', watch: true } });
    assert.deepEqual(listed.payload, { room: 'user:alice', members: [{ userId: 'alice', role: 'CUSTOMER', connections: 2 }] }, 'counted on both');

    await onB.close();
    assert.deepEqual(await changesCausedOn(watcher, b), [], 'still on A');
    await onA.close();
    assert.deepEqual(await changesCausedOn(watcher, a), [['presence:left', { room: 'user:alice', userId: 'alice' }]]);
  });

  it('first sockets on both gateways at once make one joined, last ones at once one left', async () => {
    const bob = { userId: 'bob', email: 'bob@demo.test', role: 'CUSTOMER' } as const;
    await watch(watcher, 'user:bob');
    for (let round = 0; round < 5; round++) {
      const sockets = await Promise.all([connect(a.wsUrl, a.token(bob)), connect(b.wsUrl, b.token(bob))]);
      const joined = [...(await changesCausedOn(watcher, a)), ...(await changesCausedOn(watcher, b))];
      assert.deepEqual(joined, [['presence:joined', { room: 'user:bob', userId: 'bob', role: 'CUSTOMER' }]], `round ${round}`);
      await Promise.all(sockets.map((socket) => socket.close()));
      const left = [...(await changesCausedOn(watcher, a)), ...(await changesCausedOn(watcher, b))];
      assert.deepEqual(left, [['presence:left', { room: 'user:bob', userId: 'bob' }]], `round ${round}`);
    }
  });

  it('who else is looking at a payment: subscribes on the other gateway reach the watcher', async () => {
    const room: PresenceRoom = 'payment:pay_shared';
    await watch(watcher, room);
    const viewer = await connect(b.wsUrl, b.token({ userId: 'admin_2', email: 'admin2@demo.test', role: 'ADMIN' }));
    await viewer.request({ type: 'subscribe', payload: { room } });
    assert.deepEqual((await watcher.next('presence:joined')).payload, { room, userId: 'admin_2', role: 'ADMIN' });
    await viewer.request({ type: 'unsubscribe', payload: { room } });
    assert.deepEqual((await watcher.next('presence:left')).payload, { room, userId: 'admin_2' });
  });

  it('keeps presence out of the event stream, and in Redis only bounded keys that expire by themselves', async () => {
    const others = async () => {
      const client = createClient({ url: redis.url });
      await client.connect();
      try {
        const keys = (await client.keys('*')).filter((key) => !key.startsWith('presence:')).sort();
        return { keys, events: keys.includes('realtime:events') ? await client.xLen('realtime:events') : 0 };
      } finally {
        client.destroy();
      }
    };
    await watch(watcher, 'user:carol');
    const before = await others();
    const carol = await connect(b.wsUrl, b.token({ userId: 'carol', email: 'carol@demo.test', role: 'CUSTOMER' }));
    assert.equal((await changesCausedOn(watcher, b)).length, 1);
    assert.deepEqual(await others(), before, 'no key but presence keys appeared or changed, the event stream included');
    const keys = await redisKeys(redis, 'presence:*');
    const names = [...keys.keys()].map((key) => key.replace(/^presence:gateway:[0-9a-f-]{36}$/, 'presence:gateway:<id>')).sort();
    assert.deepEqual(names, ['presence:gateway:<id>', 'presence:gateway:<id>', 'presence:gateways'], 'one hash per gateway and the set of gateways');
    for (const [key, ttl] of keys) assert.ok(ttl > 0 && ttl <= DEAD_AFTER_MS + 10_000, `${key} expires (PTTL ${ttl})`);
    await carol.close();
  });

  after(async () => {
    await watcher.close();
    await Promise.all([a.close(), b.close()]);
    assert.deepEqual([...(await redisKeys(redis, 'presence:*')).keys()], [], 'gateways that shut down leave nothing behind');
  });
});

describe('a gateway dies (kill -9)', () => {
  it(`its members leave on the other gateway within HEARTBEAT_INTERVAL_MS + HEARTBEAT_TIMEOUT_MS + 5 s; a user also on the survivor stays`, { timeout: 60_000 }, async (t) => {
    const redis = await startRedis({ persistent: false });
    const secret = randomBytes(32).toString('hex');
    const doomed = spawnGateway({
      JWT_SECRET: secret,
      REDIS_URL: redis.url,
      HEARTBEAT_INTERVAL_MS: String(HEARTBEAT.heartbeatIntervalMs),
      HEARTBEAT_TIMEOUT_MS: String(HEARTBEAT.heartbeatTimeoutMs),
    });
    const doomedUrl = listeningUrl(await doomed.waitForLine(/listening/)).replace('http', 'ws') + '/ws';
    const survivor = await startTestGateway({ jwtSecret: secret, redisUrl: redis.url, ...HEARTBEAT });
    const token = (subject: Parameters<TestGateway['token']>[0]) => signAccessToken(secret, subject, { expiresInSeconds: 300 });

    const watcher = await connect(survivor.wsUrl, token(ADMIN));
    await watch(watcher, 'user:alice');
    await watch(watcher, 'user:dave');
    await connect(doomedUrl, token(ALICE));
    const dave = { userId: 'dave', email: 'dave@demo.test', role: 'CUSTOMER' } as const;
    await connect(doomedUrl, token(dave));
    await connect(survivor.wsUrl, token(dave)); // dave is on both
    const joined = new Set<string>();
    while (joined.size < 2) joined.add((await watcher.next('presence:joined')).payload.userId);

    doomed.child.kill('SIGKILL');
    const killedAt = performance.now();
    await doomed.exited;
    const left = await watcher.next('presence:left', DEAD_AFTER_MS + 10_000);
    const tookMs = performance.now() - killedAt;
    t.diagnostic(`presence:left ${tookMs.toFixed(0)} ms after kill -9 (HEARTBEAT_INTERVAL_MS ${HEARTBEAT.heartbeatIntervalMs} + HEARTBEAT_TIMEOUT_MS ${HEARTBEAT.heartbeatTimeoutMs})`);
    assert.deepEqual(left.payload, { room: 'user:alice', userId: 'alice' });
    assert.ok(tookMs <= DEAD_AFTER_MS + 5000, `left after ${tookMs.toFixed(0)} ms`);
    // Dead counts from its last heartbeat, which went out at most one heartbeat period before the kill.
    assert.ok(tookMs >= DEAD_AFTER_MS - presenceHeartbeatMs(DEAD_AFTER_MS) - 50, `not before it counts as dead (${tookMs.toFixed(0)} ms)`);

    const listed = await watcher.request({ type: 'presence', payload: { room: 'user:dave' } });
    assert.deepEqual(listed.payload, { room: 'user:dave', members: [{ userId: 'dave', role: 'CUSTOMER', connections: 1 }] }, 'dave stays, counted once');
    assert.deepEqual(watcher.unread().filter((m) => m.type === 'presence:left'), [], 'no left for dave');
    const keys = [...(await redisKeys(redis, 'presence:*')).keys()];
    assert.equal(keys.length, 2, `the dead gateway's hash is gone: ${keys.join(', ')}`);
    await survivor.close();
    await redis.dispose();
  });
});

describe('Redis comes back empty', () => {
  it('the gateways register again, their users join again, and watchers get the members unasked', { timeout: 30_000 }, async () => {
    const redis = await startRedis({ persistent: false });
    const options = { jwtSecret: randomBytes(32).toString('hex'), redisUrl: redis.url, ...HEARTBEAT };
    const [a, b] = [await startTestGateway(options), await startTestGateway(options)];
    const watcher = await connect(a.wsUrl, a.token(ADMIN));
    await watch(watcher, 'user:alice');
    await connect(b.wsUrl, b.token(ALICE));
    await watcher.next('presence:joined');

    await redis.stop('SIGKILL');
    await redis.start(); // no persistence: every presence key is gone
    // The subscription comes back first or last; either way the watcher ends up with alice present.
    const relisted = await watcher.next('presence', 15_000);
    assert.equal(relisted.correlationId, undefined, 'sent unasked');
    await eventually(() => {
      const messages = [relisted, ...watcher.unread()];
      const last = messages.filter((m) => m.type === 'presence' || m.type === 'presence:joined' || m.type === 'presence:left').at(-1);
      if (last?.type === 'presence') return last.payload.members.some((m) => m.userId === 'alice');
      return last?.type === 'presence:joined';
    }, 'alice to be present again', 15_000);
    const keys = [...(await redisKeys(redis, 'presence:*')).keys()].sort();
    assert.ok(keys.includes('presence:gateways'));
    await Promise.all([a.close(), b.close()]);
    await redis.dispose();
  });
});
