/**
 * What the per-room histories cost Redis: memory per event and publish cost, the gateway's bus
 * (shared stream + the room's history, one script) against the former one-stream append (the
 * same idempotent script without the history), on a fresh redis-server each (append-only, fsync
 * always, as in production).
 *
 *   node --import tsx bench/bus-cost.mts [events=20000] [users=20000]
 *
 * Then what waiting for a replica costs (REDIS_MIN_REPLICAS_ACK 1 against 0), on a primary with
 * one replica: the publisher's latency with one publish in flight, the rate with 64 in flight,
 * and the time from publish to delivery by a gateway's reader (which confirms its reads too).
 *
 * Memory: `used_memory` after the events minus before, ÷ events, for two room mixes: every event
 * to one of `users` users' rooms (most rooms hold one event: the worst case for a history per
 * room), and every event to one of 10 rooms. Cost: Redis's own CPU (INFO cpu) per publish, and
 * the publisher's latency with one publish in flight (p50, p99) and the rate with 64 in flight.
 */
import { createClient } from 'redis';
import { RedisBus } from '../gateway/src/bus/redis-bus.ts';
import { createLogger } from '../gateway/src/logger.ts';
import type { PublishRequest, Room } from '@payments-system/protocol';
import { startRedis } from './lib/redis.mjs';

const events = Number(process.argv[2] ?? 20_000);
const users = Number(process.argv[3] ?? 20_000);
const logger = createLogger('warn');

/** The append before the per-room histories (the idempotent XADD of the one-stream design). */
const ONE_STREAM = `
if KEYS[2] then
  local seen = redis.call('GET', KEYS[2])
  if seen then return seen end
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'room', ARGV[2], 'event', ARGV[3])
if KEYS[2] then redis.call('SET', KEYS[2], id, 'PX', ARGV[4]) end
return id
`;

interface Publisher {
  publish(request: PublishRequest, key: string): Promise<unknown>;
  close(): Promise<void>;
}

function request(n: number, room: Room): PublishRequest {
  return {
    room,
    type: 'payment:updated',
    payload: { paymentId: `pay_${n}`, status: 'processing', amount: `${n % 1000}.00`, currency: 'EUR', description: 'x'.repeat(80) },
    correlationId: `seq-${n}`,
  };
}

async function openDesign(design: 'one stream' | 'stream + room history', url: string): Promise<Publisher> {
  if (design === 'stream + room history') {
    const bus = new RedisBus({ redis: { target: { kind: 'url', url }, minReplicasAck: 0, waitTimeoutMs: 1000 }, retention: { count: events * 2, roomCount: 1001, ageMs: 3_600_000 }, logger });
    await bus.start(() => undefined);
    return { publish: (r, key) => bus.publish(r, { idempotencyKey: key }), close: () => bus.close() };
  }
  const client = createClient({ url });
  await client.connect();
  const sha = await client.scriptLoad(ONE_STREAM);
  return {
    publish: (r, key) => {
      const { room, ...rest } = r;
      const body = JSON.stringify({ ...rest, timestamp: new Date().toISOString() });
      return client.evalSha(sha, { keys: ['realtime:events', `realtime:events:idempotency:${key}`], arguments: [String(events * 2), room, body, '3600000'] });
    },
    close: async () => void client.destroy(),
  };
}

async function info(url: string): Promise<{ memory: number; cpu: number }> {
  const client = createClient({ url });
  await client.connect();
  const text = await client.info();
  client.destroy();
  const field = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(text)?.[1]);
  return { memory: field('used_memory'), cpu: field('used_cpu_user') + field('used_cpu_sys') };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function measure(design: 'one stream' | 'stream + room history', roomOf: (n: number) => Room) {
  const redis = await startRedis();
  try {
    const publisher = await openDesign(design, redis.url);
    // Warm the script cache and the connection; then the stream starts empty.
    for (let i = 0; i < 200; i++) await publisher.publish(request(i, 'user:warm'), `warm-${i}`);
    const admin = createClient({ url: redis.url });
    await admin.connect();
    await admin.flushAll();
    admin.destroy();
    const before = await info(redis.url);
    const latencies: number[] = [];
    const half = Math.floor(events / 2);
    for (let n = 0; n < half; n++) {
      const t0 = performance.now();
      await publisher.publish(request(n, roomOf(n)), `k-${n}`);
      latencies.push(performance.now() - t0);
    }
    const t1 = performance.now();
    let next = half;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < events) {
          const n = next++;
          await publisher.publish(request(n, roomOf(n)), `k-${n}`);
        }
      }),
    );
    const concurrentSeconds = (performance.now() - t1) / 1000;
    const after = await info(redis.url);
    await publisher.close();
    latencies.sort((a, b) => a - b);
    return {
      design,
      bytesPerEvent: (after.memory - before.memory) / events,
      redisCpuUsPerPublish: ((after.cpu - before.cpu) * 1e6) / events,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      perSecond64: (events - half) / concurrentSeconds,
    };
  } finally {
    await redis.stop();
  }
}

const mixes: Array<[string, (n: number) => Room]> = [
  [`${users.toLocaleString('en-US')} users' rooms`, () => `user:u${Math.floor(Math.random() * users)}`],
  ['10 rooms', (n) => `payment:pay_${n % 10}`],
];
console.log(`${events.toLocaleString('en-US')} events of ~300 bytes, each with an idempotency key (kept for the age), redis-server with appendfsync always`);
console.log('| rooms | design | Redis memory per event | Redis CPU per publish | latency p50 / p99, one in flight | publishes/s, 64 in flight |');
console.log('|---|---|---|---|---|---|');
for (const [mix, roomOf] of mixes) {
  for (const design of ['one stream', 'stream + room history'] as const) {
    const r = await measure(design, roomOf);
    console.log(
      `| ${mix} | ${design} | ${Math.round(r.bytesPerEvent)} B | ${r.redisCpuUsPerPublish.toFixed(1)} µs | ${r.p50.toFixed(2)} / ${r.p99.toFixed(2)} ms | ${Math.round(r.perSecond64).toLocaleString('en-US')} |`,
    );
  }
}

let runs = 0;
async function waitCost(minReplicasAck: number, url: string) {
  const run = ++runs;
  const delivered = new Map<string, number>();
  const bus = new RedisBus({
    redis: { target: { kind: 'url', url }, minReplicasAck, waitTimeoutMs: 1000 },
    retention: { count: events * 2, roomCount: 1001, ageMs: 3_600_000 },
    logger,
    blockMs: 1000,
  });
  await bus.start((_room, event) => delivered.set(event.id!, performance.now()));
  for (let i = 0; i < 200; i++) await bus.publish(request(i, 'user:warm'), { idempotencyKey: `warm-${run}-${i}` });
  const sequential = Math.min(events, 5000);
  const latencies: number[] = [];
  const sent = new Map<string, number>();
  for (let n = 0; n < sequential; n++) {
    const t0 = performance.now();
    const id = await bus.publish(request(n, `user:u${n % users}`), { idempotencyKey: `w${run}-${n}` });
    latencies.push(performance.now() - t0);
    sent.set(id, t0);
  }
  const t1 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < sequential) {
        const n = next++;
        await bus.publish(request(n, `user:u${n % users}`), { idempotencyKey: `w${run}-64-${n}` });
      }
    }),
  );
  const perSecond64 = sequential / ((performance.now() - t1) / 1000);
  while (delivered.size < sent.size + sequential + 200) await new Promise((resolve) => setTimeout(resolve, 10));
  await bus.close();
  const deliveries = [...sent].map(([id, at]) => delivered.get(id)! - at).sort((a, b) => a - b);
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), perSecond64, d50: percentile(deliveries, 50), d99: percentile(deliveries, 99) };
}

const primary = await startRedis();
const replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
try {
  const admin = createClient({ url: primary.url });
  await admin.connect();
  while (!/connected_slaves:1[\s\S]*state=online/.test(await admin.info('replication'))) await new Promise((resolve) => setTimeout(resolve, 50));
  admin.destroy();
  console.log('');
  console.log(`a primary with one replica (both appendfsync always), ${Math.min(events, 5000).toLocaleString('en-US')} publishes each`);
  console.log('| REDIS_MIN_REPLICAS_ACK | publish latency p50 / p99, one in flight | publishes/s, 64 in flight | publish to delivery p50 / p99 |');
  console.log('|---|---|---|---|');
  for (const ack of [0, 1, 0, 1]) {
    const r = await waitCost(ack, primary.url);
    console.log(`| ${ack} | ${r.p50.toFixed(2)} / ${r.p99.toFixed(2)} ms | ${Math.round(r.perSecond64).toLocaleString('en-US')} | ${r.d50.toFixed(2)} / ${r.d99.toFixed(2)} ms |`);
  }
} finally {
  await replica.stop();
  await primary.stop();
}
