/**
 * Scale-out: two gateways on one Redis (a real redis-server on a free port). A socket receives
 * what is published on the other gateway, in its user, role and subscribed rooms; a logout on
 * one gateway closes the user's sockets on both; a client that reconnects to the other gateway
 * and resumes gets exactly what its rooms missed, in order, then live events with no gap and no
 * duplicate; a resume from beyond the retention is answered `recovery:failed`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CloseCode, compareEventIds, type PublishRequest, type Room, type RoomEvent } from '@payments-system/protocol';
import { connect, type TestClient } from '../support/client.ts';
import { demoExtension } from '../../src/demo/extension.ts';
import { ADMIN, ALICE, BOB, body, publish, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { startRedis, type RedisServer } from '../bus/redis-server.ts';
import { RecoveringClient } from './recovering-client.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function update(room: Room, sequence: number): PublishRequest {
  return {
    room,
    type: 'payment:updated',
    payload: { paymentId: `pay_${sequence}`, status: 'processing', amount: '10.00', currency: 'EUR' },
    correlationId: `seq-${sequence}`,
  };
}

/** POST /api/events on `gateway`; returns the event id (202). */
async function publishVia(gateway: TestGateway, request: PublishRequest): Promise<string> {
  const response = await publish(gateway, request);
  assert.equal(response.status, 202, `publish answered ${response.status}`);
  return (await body(response)).id as string;
}

/** A room event that `client` must not have had before `marker` arrives (events are in bus order). */
async function nextRoomEvent(client: TestClient): Promise<RoomEvent> {
  for (;;) {
    const message = await client.next();
    if (message.id !== undefined) return message as RoomEvent;
  }
}

async function pair(redis: RedisServer, overrides: Parameters<typeof startTestGateway>[0] = {}): Promise<[TestGateway, TestGateway]> {
  const jwtSecret = randomBytes(32).toString('hex');
  const options = { jwtSecret, redisUrl: redis.url, ...overrides };
  return [await startTestGateway(options), await startTestGateway(options)];
}

const recovering: RecoveringClient[] = [];
after(() => Promise.all(recovering.map((client) => client.stop())));
function recoveringClient(options: ConstructorParameters<typeof RecoveringClient>[0]): RecoveringClient {
  const client = new RecoveringClient(options);
  recovering.push(client);
  return client;
}

describe('two gateways on one Redis', () => {
  let redis: RedisServer;
  let a: TestGateway;
  let b: TestGateway;
  before(async () => {
    redis = await startRedis();
    [a, b] = await pair(redis, { demoUsers: true, extension: demoExtension });
  });

  it('a socket on A receives an event published on B; sockets outside the room do not', async () => {
    const aliceOnA = await connect(a.wsUrl, a.token(ALICE));
    const aliceOnB = await connect(b.wsUrl, b.token(ALICE));
    const bobOnA = await connect(a.wsUrl, a.token(BOB));
    const id = await publishVia(b, update('user:alice', 1));
    for (const client of [aliceOnA, aliceOnB]) {
      const event = await client.next('payment:updated');
      assert.equal(event.id, id);
      assert.equal(event.room, 'user:alice');
      assert.equal(event.correlationId, 'seq-1');
    }
    const marker = await publishVia(a, update('broadcast', 2));
    assert.equal((await nextRoomEvent(bobOnA)).id, marker, 'bob got nothing before the broadcast marker');
  });

  it('role rooms span gateways: an admin on A gets role:ADMIN events published on B, customers do not', async () => {
    const adminOnA = await connect(a.wsUrl, a.token(ADMIN));
    const aliceOnA = await connect(a.wsUrl, a.token(ALICE));
    const adminOnB = await connect(b.wsUrl, b.token(ADMIN));
    const id = await publishVia(b, update('role:ADMIN', 3));
    assert.equal((await adminOnA.next('payment:updated')).id, id);
    assert.equal((await adminOnB.next('payment:updated')).id, id);
    const customers = await publishVia(b, update('role:CUSTOMER', 4));
    assert.equal((await nextRoomEvent(aliceOnA)).id, customers, 'alice got role:CUSTOMER, not role:ADMIN');
  });

  it('subscriptions span gateways: subscribe on A, publish on B; after unsubscribe nothing more arrives', async () => {
    const admin = await connect(a.wsUrl, a.token(ADMIN));
    assert.equal((await admin.request({ type: 'subscribe', payload: { room: 'payment:pay_scale' } })).type, 'subscribed');
    const first = await publishVia(b, update('payment:pay_scale', 5));
    const event = await admin.next('payment:updated');
    assert.deepEqual([event.id, event.room], [first, 'payment:pay_scale']);
    assert.equal((await admin.request({ type: 'unsubscribe', payload: { room: 'payment:pay_scale' } })).type, 'unsubscribed');
    await publishVia(b, update('payment:pay_scale', 6));
    const marker = await publishVia(b, update('role:ADMIN', 7));
    assert.equal((await nextRoomEvent(admin)).id, marker);
  });

  it('a logout on B closes the user’s sockets on A and B with 4003 after session:sync; other users stay', async () => {
    const login = await fetch(`${b.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'alice@demo.test', password: 'alice-demo' }),
    });
    assert.equal(login.status, 200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    const aliceOnA = await connect(a.wsUrl, a.token(ALICE));
    const aliceOnB = await connect(b.wsUrl, accessToken);
    const bobOnA = await connect(a.wsUrl, a.token(BOB));
    const logout = await fetch(`${b.url}/api/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${accessToken}` } });
    assert.equal(logout.status, 204);
    for (const client of [aliceOnA, aliceOnB]) {
      const sync = await client.next('session:sync');
      assert.deepEqual([sync.payload.userId, sync.payload.action], ['alice', 'logout']);
      assert.equal((await client.closed).code, CloseCode.SessionRevoked);
    }
    const marker = await publishVia(a, update('user:bob', 8));
    assert.equal((await nextRoomEvent(bobOnA)).id, marker, 'bob is still connected and live');
  });

  it('a token revoked by a logout on B is refused by A too, and a refresh token from B works on A', async () => {
    const login = await fetch(`${b.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'bob@demo.test', password: 'bob-demo' }),
    });
    const { accessToken, refreshToken } = (await login.json()) as { accessToken: string; refreshToken: string };
    // Sessions live in Redis with REDIS_URL: a refresh token issued by B is good on A.
    const refreshed = await fetch(`${a.url}/api/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken }),
    });
    assert.equal(refreshed.status, 200);
    await fetch(`${b.url}/api/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${accessToken}` } });
    await assert.rejects(connect(a.wsUrl, accessToken), /HTTP 401/);
  });

  it('a client that reconnects to the other gateway and resumes gets exactly what its rooms missed, in order, then live', async () => {
    const rooms: Room[] = ['payment:pay_resume'];
    const mine = new Set<string>(['user:admin_1', 'role:ADMIN', 'broadcast', 'payment:pay_resume']);
    const first = recoveringClient({ name: 'admin@A', url: () => a.wsUrl, token: () => a.token(ADMIN), subscribe: rooms });
    await first.start();
    const seen = [await publishVia(b, update('payment:pay_resume', 10)), await publishVia(a, update('role:ADMIN', 11))];
    await first.until(() => first.events.length === 2, 'the first two events');
    assert.deepEqual(first.events.map((event) => event.id), seen);
    await first.stop();

    // Missed while away: its rooms and others', published on both gateways.
    const targets: Room[] = ['payment:pay_resume', 'user:alice', 'role:ADMIN', 'payment:pay_other', 'broadcast', 'role:CUSTOMER', 'user:admin_1'];
    const missed: Array<{ id: string; room: Room }> = [];
    for (let i = 0; i < 21; i++) {
      const room = targets[i % targets.length]!;
      missed.push({ id: await publishVia(i % 2 ? a : b, update(room, 100 + i)), room });
    }
    const expectedMissed = missed.filter(({ room }) => mine.has(room)).map(({ id }) => id);

    const second = recoveringClient({ name: 'admin@B', url: () => b.wsUrl, token: () => b.token(ADMIN), subscribe: rooms, resumeFrom: first.lastId! });
    await second.start();
    // Live traffic while the replay runs: it must come after the replay, once, in order.
    const live: Array<{ id: string; room: Room }> = [];
    for (let i = 0; i < 30; i++) {
      const room = targets[i % targets.length]!;
      live.push({ id: await (i % 2 ? a : b).publish(update(room, 200 + i)), room });
    }
    const expected = [...expectedMissed, ...live.filter(({ room }) => mine.has(room)).map(({ id }) => id)];
    await second.until(() => second.events.length >= expected.length, `${expected.length} events`);
    await sleep(50);
    assert.deepEqual(second.events.map((event) => event.id), expected);
    const resumed = second.replies().find((message) => message.type === 'resumed');
    assert.ok(resumed && resumed.type === 'resumed', 'a resumed message');
    assert.equal(resumed.payload.since, seen[1]);
    assert.ok(resumed.payload.replayed >= expectedMissed.length, `replayed ${resumed.payload.replayed}`);
    assert.equal(second.liveDuplicates, 0);
    for (let i = 1; i < second.events.length; i++) assert.ok(compareEventIds(second.events[i - 1]!.id!, second.events[i]!.id!) < 0);
  });

  it('the gateway itself sends no duplicate across the replay/live seam (raw socket, resume sent first)', async () => {
    const since = await publishVia(a, update('role:ADMIN', 300));
    const missed = [await publishVia(a, update('role:ADMIN', 301)), await publishVia(b, update('broadcast', 302))];
    const client = await connect(b.wsUrl, b.token(ADMIN));
    client.send({ type: 'resume', payload: { since } });
    const live = await Promise.all(Array.from({ length: 20 }, (_, i) => a.publish(update('role:ADMIN', 303 + i))));
    const ids: string[] = [];
    let resumedAt = -1;
    const all = [...missed, ...live].sort(compareEventIds);
    while (resumedAt < 0 || new Set(ids).size < all.length) {
      const message = await client.next();
      if (message.type === 'resumed') resumedAt = ids.length;
      else if (message.id !== undefined) ids.push(message.id);
    }
    await sleep(50);
    assert.equal(client.unread().filter((message) => message.id !== undefined).length, 0, 'nothing more');
    assert.deepEqual([...new Set(ids)].sort(compareEventIds), all);
    // The socket is in its rooms from the 101 on: events that reached it live before the gateway read
    // the resume come again in the replay. From the first replayed event on, ids only increase.
    const replayStart = ids.indexOf(missed[0]!);
    assert.ok(replayStart >= 0);
    const fromReplay = ids.slice(replayStart);
    assert.deepEqual(fromReplay, [...fromReplay].sort(compareEventIds), 'replay then live, in order');
    assert.equal(new Set(fromReplay).size, fromReplay.length, 'no duplicate from the replay on');
    assert.deepEqual(fromReplay.at(-1), all.at(-1));
  });
});

describe('resuming on a gateway that started after the missed events (a restarted instance)', () => {
  it('replays and answers resumed even when nothing is published afterwards', async () => {
    const redis = await startRedis();
    const jwtSecret = randomBytes(32).toString('hex');
    const a = await startTestGateway({ jwtSecret, redisUrl: redis.url });
    const since = await publishVia(a, update('user:alice', 1));
    const missed = [await publishVia(a, update('user:alice', 2)), await publishVia(a, update('broadcast', 3))];
    // B comes up after those events (as after a rolling restart) and the stream then stays quiet.
    const b = await startTestGateway({ jwtSecret, redisUrl: redis.url });
    const client = await connect(b.wsUrl, b.token(ALICE));
    client.send({ type: 'resume', payload: { since } });
    const replayed = [await nextRoomEvent(client), await nextRoomEvent(client)].map((event) => event.id);
    assert.deepEqual(replayed, missed);
    const resumed = await client.next('resumed', 2000);
    assert.deepEqual(resumed.payload, { since, replayed: 2 });
  });
});

describe('recovery beyond the limits (two gateways on one Redis)', () => {
  it('a resume from before what its room still holds is answered recovery:failed too-old; live events continue', async () => {
    const redis = await startRedis();
    // A publishes with a smaller RECOVERY_MAX_EVENTS (as during a change of it), so alice's room keeps 3 events.
    const jwtSecret = randomBytes(32).toString('hex');
    const a = await startTestGateway({ jwtSecret, redisUrl: redis.url, recoveryMaxEvents: 3 });
    const b = await startTestGateway({ jwtSecret, redisUrl: redis.url, recoveryMaxEvents: 100 });
    const first = await connect(a.wsUrl, a.token(ALICE));
    const since = await publishVia(a, update('user:alice', 1));
    assert.equal((await first.next('payment:updated')).id, since);
    await first.close();
    for (let i = 0; i < 15; i++) await publishVia(a, update('user:alice', 2 + i));
    const second = recoveringClient({ name: 'alice@B', url: () => b.wsUrl, token: () => b.token(ALICE), resumeFrom: since });
    await second.start();
    await second.until(() => second.recoveryFailures.length === 1, 'recovery:failed');
    assert.deepEqual(second.recoveryFailures, [{ since, reason: 'too-old' }]);
    const live = await publishVia(a, update('user:alice', 99));
    await second.until(() => second.events.some((event) => event.id === live), 'a live event after recovery:failed');
  });

  it('a resume from an event older than the age limit is answered recovery:failed too-old', async () => {
    const redis = await startRedis();
    const [a, b] = await pair(redis, { busRetentionMs: 400 });
    const since = await publishVia(a, update('user:alice', 1));
    await sleep(600);
    await publishVia(a, update('user:alice', 2));
    const client = await connect(b.wsUrl, b.token(ALICE));
    const reply = await client.request({ type: 'resume', payload: { since } });
    assert.equal(reply.type, 'recovery:failed');
    assert.deepEqual(reply.payload, { since, reason: 'too-old' });
  });

  it('RECOVERY_MAX_EVENTS counts the client’s own events: other users’ traffic never makes it reload', async () => {
    const redis = await startRedis();
    const [a, b] = await pair(redis, { recoveryMaxEvents: 5 });
    const since = await publishVia(a, update('user:alice', 1));
    const missed: string[] = [];
    for (let i = 0; i < 40; i++) {
      const id = await publishVia(i % 2 ? a : b, update(i % 10 === 0 ? 'user:alice' : `user:other${i}`, 2 + i));
      if (i % 10 === 0) missed.push(id);
    }
    const client = await connect(b.wsUrl, b.token(ALICE));
    client.send({ type: 'resume', payload: { since } });
    const replayed: string[] = [];
    for (let message = await client.next(); message.type !== 'resumed'; message = await client.next()) {
      assert.notEqual(message.type, 'recovery:failed', JSON.stringify(message.payload));
      if (message.id !== undefined) replayed.push(message.id);
    }
    assert.deepEqual(replayed, missed, 'her 4 events of 40, although 40 > RECOVERY_MAX_EVENTS');
    for (let i = 0; i < 2; i++) await publishVia(a, update('user:alice', 100 + i));
    const again = await connect(b.wsUrl, b.token(ALICE));
    const tooMany = await again.request({ type: 'resume', payload: { since } });
    assert.deepEqual([tooMany.type, tooMany.payload], ['recovery:failed', { since, reason: 'too-many' }], '6 of her own > 5');
  });

  it('while Redis is down: POST /api/events answers 503 with Retry-After; both gateways recover on their own', async () => {
    const redis = await startRedis();
    const [a, b] = await pair(redis);
    const alice = await connect(a.wsUrl, a.token(ALICE));
    await redis.stop('SIGKILL');
    let refused: Response | undefined;
    for (let i = 0; i < 50 && refused === undefined; i++) {
      const response = await publish(b, update('user:alice', 1));
      if (response.status === 503) refused = response;
      else await sleep(10);
    }
    assert.ok(refused, 'a 503 while Redis is down');
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.deepEqual((await body(refused)).error, { code: 'SERVICE_UNAVAILABLE', message: 'event bus unavailable; retry' });
    assert.match(await (await fetch(`${b.url}/metrics`)).text(), /^gateway_events_refused_total\{reason="unavailable"\} [1-9]/m);
    await redis.start();
    let id: string | undefined;
    const deadline = Date.now() + 5000;
    while (id === undefined) {
      const response = await publish(b, update('user:alice', 2));
      if (response.status === 202) id = (await body(response)).id;
      else if (Date.now() > deadline) throw new Error(`still ${response.status} 5 s after Redis came back`);
      else await sleep(25);
    }
    const event = await alice.next('payment:updated', 8000);
    assert.equal(event.id, id, 'gateway A reads again and delivers');
  });

  it('a resume while Redis is down is answered recovery:failed unavailable, and the socket is live once Redis is back', async () => {
    const redis = await startRedis();
    const [a, b] = await pair(redis);
    const since = await publishVia(a, update('user:alice', 1));
    await redis.stop('SIGKILL');
    const client = await connect(b.wsUrl, b.token(ALICE));
    const reply = await client.request({ type: 'resume', payload: { since } });
    assert.deepEqual([reply.type, reply.payload], ['recovery:failed', { since, reason: 'unavailable' }]);
    await redis.start();
    let id: string | undefined;
    for (let i = 0; id === undefined && i < 200; i++) {
      const response = await publish(a, update('user:alice', 2));
      if (response.status === 202) id = (await body(response)).id;
      else await sleep(25);
    }
    assert.equal((await client.next('payment:updated', 8000)).id, id);
  });
});
