/**
 * No single point of failure, all real processes: a Redis primary, two replicas and three
 * Sentinels (gateway/test/ha/sentinel-stack.ts), two gateway processes in Sentinel mode with
 * REDIS_MIN_REPLICAS_ACK=1, clients on both, and a publisher that posts to both, retrying each
 * number with its Idempotency-Key until a 202.
 *
 *   1. Replicas that cannot acknowledge in time: publishing answers 503 and the event reaches no
 *      client until they can; the retry gets the same id, delivered once.
 *   2. `kill -9` of the primary mid-stream, the old primary back as a replica, then `kill -9` of
 *      the new primary: every client receives every event that got a 202 exactly once, in order,
 *      and nothing else; a login and a payment change made just before the first failover are
 *      there after it; the publish gap of each failover is measured.
 *   3. Presence after both failovers: a member on the other gateway is listed, and a new socket
 *      is announced to a watcher across gateways (presence's connections follow the Sentinels).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { compareEventIds, type Room } from '@payments-system/protocol';
import { createClient } from 'redis';
import { signAccessToken, type TokenSubject } from '../../src/auth/tokens.ts';
import { hashRefreshToken } from '../../src/demo/sessions/session-store.ts';
import { RecoveringClient } from '../scale/recovering-client.ts';
import { connect } from '../support/client.ts';
import { listeningUrl, spawnGateway, type GatewayProcess } from '../support/process.ts';
import { roomMix, type Member } from '../support/traffic.ts';
import { Publisher } from '../support/publisher.ts';
import { MASTER_NAME, startSentinelStack, type SentinelStack } from './sentinel-stack.ts';

const CUSTOMERS = 8;
const SHARED_PAYMENT: Room = 'payment:pay_ha';
const ADMIN: TokenSubject = { userId: 'admin_1', email: 'admin@demo.test', role: 'ADMIN' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const roomOf = roomMix(CUSTOMERS, SHARED_PAYMENT);

const figures: string[] = [];
after(() => {
  if (figures.length > 0) process.stdout.write(`\nfailover figures:\n${figures.map((line) => `  ${line}`).join('\n')}\n`);
});

describe('Redis Sentinel: two gateways through failovers of the Redis primary', { timeout: 150_000 }, () => {
  const secret = randomBytes(32).toString('hex');
  const token = (subject: TokenSubject) => signAccessToken(secret, subject, { expiresInSeconds: 600 });
  let stack: SentinelStack;
  let gateways: Array<{ process: GatewayProcess; url: string }>;
  const members: Member[] = [];

  before(async () => {
    stack = await startSentinelStack();
    const env = {
      JWT_SECRET: secret,
      REDIS_SENTINELS: stack.sentinelList,
      REDIS_SENTINEL_MASTER: MASTER_NAME,
      REDIS_PASSWORD: stack.password,
      REDIS_MIN_REPLICAS_ACK: '1',
      REDIS_WAIT_TIMEOUT_MS: '500',
      DEMO_USERS: 'true',
    };
    const processes = [spawnGateway(env), spawnGateway(env)];
    gateways = await Promise.all(processes.map(async (process) => ({ process, url: listeningUrl(await process.waitForLine(/listening/, 30_000)) })));
    for (let i = 0; i < CUSTOMERS + 2; i++) {
      const admin = i >= CUSTOMERS;
      const userId = admin ? `a${i - CUSTOMERS}` : `c${String(i).padStart(2, '0')}`;
      const role = admin ? 'ADMIN' : 'CUSTOMER';
      const subject = { userId, email: `${userId}@demo.test`, role } as const;
      const subscribe: Room[] = admin ? [SHARED_PAYMENT] : [];
      const gateway = gateways[i % 2]!;
      const client = new RecoveringClient({ name: userId, url: () => `${gateway.url.replace('http', 'ws')}/ws`, token: () => token(subject), subscribe });
      members.push({ client, rooms: new Set<Room>([`user:${userId}`, `role:${role}`, 'broadcast', ...subscribe]) });
    }
    await Promise.all(members.map(({ client }) => client.start()));
  });

  after(async () => {
    await Promise.all(members.map(({ client }) => client.stop()));
  });

  /** Every client has every accepted event of its rooms exactly once, in order, and nothing else. */
  async function assertExactlyOnce(publisher: Publisher): Promise<number> {
    const accepted = [...publisher.accepted].sort((a, b) => compareEventIds(a.id, b.id));
    const acceptedIds = new Set(accepted.map(({ id }) => id));
    const problems: string[] = [];
    let deliveries = 0;
    for (const { client, rooms } of members) {
      const expected = accepted.filter(({ room }) => rooms.has(room)).map(({ id }) => id);
      const last = expected.at(-1);
      if (last !== undefined) await client.until(() => client.events.some((event) => event.id === last), `${client.name}: event ${last}`, 15_000);
      const received = client.events.filter((event) => event.correlationId?.startsWith('seq-')).map((event) => event.id!);
      deliveries += received.length;
      const extra = received.filter((id) => !acceptedIds.has(id));
      const missing = expected.filter((id) => !received.includes(id));
      if (missing.length > 0) problems.push(`${client.name}: missing ${missing.length}, first ${missing.slice(0, 3).join(', ')}`);
      if (extra.length > 0) problems.push(`${client.name}: ${extra.length} events never accepted (first ${extra[0]}): delivered, then taken back by a failover`);
      if (new Set(received).size !== received.length) problems.push(`${client.name}: an id delivered twice`);
      const numbers = client.events.filter((event) => event.correlationId?.startsWith('seq-')).map((event) => event.correlationId);
      if (new Set(numbers).size !== numbers.length) problems.push(`${client.name}: a number delivered under two ids`);
      for (let i = 1; i < received.length; i++) if (compareEventIds(received[i - 1]!, received[i]!) >= 0) problems.push(`${client.name}: out of order at ${received[i]}`);
      if (client.liveDuplicates > 0 || client.reconnects.length > 0) problems.push(`${client.name}: ${client.liveDuplicates} duplicates, ${client.reconnects.length} reconnects`);
    }
    assert.deepEqual(problems, []);
    return deliveries;
  }

  it('replicas that cannot acknowledge in time: 503 for events and logins, nothing delivered or replayed, then the retry is delivered once', async () => {
    const [a, b] = [gateways[0]!, gateways[1]!];
    const onB = members.find(({ client }) => client.name === 'a1')!.client;
    const replicas = stack.nodes.filter((node) => node !== stack.nodes[0]);
    const post = (key: string) =>
      fetch(`${a.url}/api/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token(ADMIN)}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ room: SHARED_PAYMENT, type: 'system:broadcast', payload: { message: 'while replicas sleep', level: 'info' } }),
      });
    const waitTimeouts = async (url: string) => Number(/^gateway_redis_wait_timeouts_total (\d+)/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1]);
    const marker = await post('before-the-freeze');
    const since = ((await marker.json()) as { id: string }).id;
    await onB.until(() => onB.events.some((event) => event.id === since), 'the marker on B');
    const before = onB.events.length;
    const timeoutsOnB = await waitTimeouts(b.url);
    for (const replica of replicas) replica.signal('SIGSTOP');
    try {
      const refused = await post('frozen-replicas');
      assert.equal(refused.status, 503, 'not a silent 202');
      assert.match(((await refused.json()) as { error: { message: string } }).error.message, /retry/);
      const login = await fetch(`${a.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'bob@demo.test', password: 'bob-demo' }),
      });
      assert.equal(login.status, 503, 'a login (a session write) waits for the replicas too');
      // B's reader read the event on the primary and could not get it acknowledged: it keeps it back.
      const deadline = Date.now() + 10_000;
      while ((await waitTimeouts(b.url)) === timeoutsOnB) {
        assert.ok(Date.now() < deadline, "B's reader never tried to confirm what it read");
        await sleep(50);
      }
      assert.equal(onB.events.length, before, 'nothing delivered that the replicas do not hold');
      const resuming = await connect(`${b.url.replace('http', 'ws')}/ws`, token({ userId: 'a1', email: 'a1@demo.test', role: 'ADMIN' }));
      const reply = await resuming.request({ type: 'resume', payload: { since } });
      assert.deepEqual([reply.type, reply.payload], ['recovery:failed', { since, reason: 'unavailable' }], 'nor replayed');
      await resuming.close();
    } finally {
      for (const replica of replicas) replica.signal('SIGCONT');
    }
    const accepted = await post('frozen-replicas');
    assert.equal(accepted.status, 202);
    const { id } = (await accepted.json()) as { id: string };
    const after = await post('after-the-thaw');
    const { id: afterId } = (await after.json()) as { id: string };
    await onB.until(() => onB.events.some((event) => event.id === afterId), 'a later event');
    assert.deepEqual(
      onB.events.slice(before).map((event) => event.id),
      [id, afterId],
      'the refused event reached the client once, when the replicas held it, under the id its retry got',
    );
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    assert.match(metrics, /^gateway_events_refused_total\{reason="not-replicated"\} [1-9]/m);
    assert.match(metrics, new RegExp(`^gateway_redis_primary\\{address="127\\.0\\.0\\.1:${stack.nodes[0]!.port}"\\} 1`, 'm'));
  });

  it('kill -9 of the primary, twice: every 202 reaches every client once, in order; sessions and payments survive', async () => {
    const [a, b] = [gateways[0]!, gateways[1]!];
    const publisher = new Publisher({ origins: [a.url, b.url], token }, roomOf, 5);
    const kills: Array<{ what: string; at: number }> = [];
    const api = (url: string, method: string, path: string, body?: unknown, bearer?: string) =>
      fetch(`${url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...(bearer && { authorization: `Bearer ${bearer}` }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    publisher.start();
    try {
      await sleep(1000);
      // A login and a payment change right before the failover.
      const login = await api(a.url, 'POST', '/api/auth/login', { email: 'alice@demo.test', password: 'alice-demo' });
      assert.equal(login.status, 200);
      const { accessToken, refreshToken } = (await login.json()) as { accessToken: string; refreshToken: string };
      const created = await api(b.url, 'POST', '/api/payments', { amount: '12.50', currency: 'EUR', description: 'before the failover' }, accessToken);
      assert.equal(created.status, 201);
      const { paymentId } = (await created.json()) as { paymentId: string };
      assert.equal((await api(a.url, 'PATCH', `/api/payments/${paymentId}`, { status: 'processing' }, token(ADMIN))).status, 200);

      const first = await stack.primary();
      const killedAt = Date.now();
      kills.push({ what: 'the first kill', at: killedAt });
      await first.stop('SIGKILL');
      const second = await stack.failoverFrom(first);
      const promotedAfter = Date.now() - killedAt;
      await sleep(1500);

      // Read from the new primary itself: a refresh is a write, which may answer 503 while its replica resyncs.
      const { sid } = JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()) as { sid: string };
      const primary = createClient({ socket: { host: '127.0.0.1', port: second.port }, password: stack.password });
      await primary.connect();
      try {
        assert.equal(await primary.hGet(`realtime:session:${sid}`, 'revoked'), '0', 'the login made before the failover is still there');
        assert.equal(await primary.exists(`realtime:refresh:${hashRefreshToken(refreshToken)}`), 1, 'and its refresh token');
      } finally {
        primary.destroy();
      }
      // A read may still answer 503 while the gateway's connection moves to the new primary.
      let answer = await api(b.url, 'GET', '/api/payments', undefined, token(ADMIN));
      for (const deadline = Date.now() + 10_000; answer.status === 503 && Date.now() < deadline; ) {
        await sleep(100);
        answer = await api(b.url, 'GET', '/api/payments', undefined, token(ADMIN));
      }
      assert.equal(answer.status, 200);
      const listed = (await answer.json()) as { payments: Array<{ paymentId: string; status: string }> };
      assert.deepEqual(
        listed.payments.filter((payment) => payment.paymentId === paymentId).map((payment) => payment.status),
        ['processing'],
        'the payment and its change made before the failover are still there',
      );

      // The old primary comes back and rejoins as a replica; then the new primary fails the other way.
      await first.start();
      await stack.replicating(first);
      await sleep(500);
      const secondKilledAt = Date.now();
      kills.push({ what: 'the second kill', at: secondKilledAt });
      await second.stop('SIGKILL');
      const third = await stack.failoverFrom(second);
      const secondPromotedAfter = Date.now() - secondKilledAt;
      await sleep(1500);
      figures.push(
        `primary ${first.port} killed: ${second.port} promoted after ${promotedAfter} ms; ${second.port} killed (${first.port} back as a replica): ${third.port} promoted after ${secondPromotedAfter} ms`,
      );
    } finally {
      await publisher.stop();
    }
    const deliveries = await assertExactlyOnce(publisher);
    const gap = publisher.longestGap();
    // Where the gap lies against the kills, so that a failure says which failover (or what after it) took long.
    const timeline = (at: number) => kills.map(({ what, at: killedAt }) => `${((at - killedAt) / 1000).toFixed(1)} s after ${what}`).join(', ');
    figures.push(
      `published ${publisher.stats.attempts} attempts, accepted ${publisher.stats.accepted}, refused ${JSON.stringify(publisher.stats.refused)}, ` +
        `connection errors ${publisher.stats.errors}; ${deliveries} deliveries, each accepted event once per client in its rooms; longest publish gap ${gap.ms} ms`,
    );
    assert.ok(publisher.stats.accepted > 200, `only ${publisher.stats.accepted} events accepted`);
    assert.ok((publisher.stats.refused['503'] ?? 0) > 0, 'publishing was refused while no primary was known');
    assert.ok(gap.ms < 10_000, `publishing was refused for ${gap.ms} ms around a failover: from ${timeline(gap.from)} to ${timeline(gap.to)}`);
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    assert.match(metrics, /^gateway_redis_failovers_total [2-9]/m, 'both failovers counted');
  });

  it('presence follows the failovers: members on the other gateway are listed, and a new socket is announced', async () => {
    const [a, b] = [gateways[0]!, gateways[1]!];
    const watcher = await connect(`${a.url.replace('http', 'ws')}/ws`, token(ADMIN));
    try {
      // c01 connected to gateway b before both failovers; its presence was rewritten on each new primary.
      const listed = await watcher.request({ type: 'presence', payload: { room: 'user:c01' } });
      assert.equal(listed.type, 'presence');
      assert.deepEqual(
        listed.type === 'presence' && listed.payload.members.map(({ userId }) => userId),
        ['c01'],
        'a member connected on the other gateway before the failovers',
      );
      const room = 'user:newcomer';
      await watcher.request({ type: 'presence', payload: { room, watch: true } });
      const newcomer = await connect(`${b.url.replace('http', 'ws')}/ws`, token({ userId: 'newcomer', email: 'newcomer@demo.test', role: 'CUSTOMER' }));
      assert.deepEqual((await watcher.next('presence:joined', 10_000)).payload, { room, userId: 'newcomer', role: 'CUSTOMER' });
      await newcomer.close();
      assert.deepEqual((await watcher.next('presence:left', 10_000)).payload, { room, userId: 'newcomer' });
    } finally {
      await watcher.close();
    }
  });
});
