/**
 * One behavioural suite, two buses: the in-memory bus (one process) and the Redis bus (one Redis
 * Stream, a real `redis-server` started here on a free port). Whatever the gateway relies on —
 * order, ids, delivery, replay, retention, limits — must hold for both. The Redis-only part
 * covers what only a networked bus can do: be unreachable, come back, and lose its reader's
 * connection without delivering an event twice.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import { compareEventIds, type PublishRequest, type Room } from '@payments-system/protocol';
import { BusUnavailable, type Bus, type Retention, type StoredEvent } from '../../src/bus/bus.ts';
import { InMemoryBus } from '../../src/bus/in-memory-bus.ts';
import { RedisBus } from '../../src/bus/redis-bus.ts';
import { createLogger } from '../../src/logger.ts';
import { startRedis, type RedisServer } from './redis-server.ts';

interface Subject {
  readonly bus: Bus;
  /** Everything the bus handed to its sink, in order. */
  readonly delivered: StoredEvent[];
}

interface Implementation {
  readonly name: string;
  /** Whether the sink is called before `publish` resolves (in-memory) or some time after (Redis). */
  readonly synchronous: boolean;
  open(retention?: Partial<Retention>, stream?: string): Promise<Subject>;
}

const DEFAULT_RETENTION: Retention = { count: 10_000, roomCount: 1001, ageMs: 60_000 };
const ALICE: readonly Room[] = ['user:alice'];
const logger = createLogger('silent');

function payment(sequence: number, room: PublishRequest['room'] = 'user:alice'): PublishRequest {
  return {
    room,
    type: 'payment:updated',
    payload: { paymentId: `pay_${sequence}`, status: 'processing', amount: `${sequence}.00`, currency: 'EUR' },
    correlationId: `seq-${sequence}`,
  };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function publishAll(bus: Bus, from: number, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = from; i < from + count; i++) ids.push(await bus.publish(payment(i)));
  return ids;
}

function ids(events: readonly StoredEvent[]): string[] {
  return events.map(({ event }) => event.id as string);
}

function assertIncreasing(list: readonly string[], what: string): void {
  for (let i = 1; i < list.length; i++) {
    assert.ok(compareEventIds(list[i - 1]!, list[i]!) < 0, `${what}: ${list[i - 1]} is not before ${list[i]} (index ${i})`);
  }
}

// ---------------------------------------------------------------- the two implementations

const opened: Bus[] = [];
after(() => Promise.all(opened.map((bus) => bus.close())));

const inMemory: Implementation = {
  name: 'InMemoryBus',
  synchronous: true,
  async open(retention = {}) {
    const bus = new InMemoryBus({ ...DEFAULT_RETENTION, ...retention });
    const delivered: StoredEvent[] = [];
    await bus.start((room, event) => delivered.push({ room, event }));
    opened.push(bus);
    return { bus, delivered };
  },
};

let redis: RedisServer;
let streams = 0;
const redisImplementation: Implementation = {
  name: 'RedisBus',
  synchronous: false,
  async open(retention = {}, stream = `test:events:${++streams}`) {
    const bus = new RedisBus({ redis: redis.settings, stream, retention: { ...DEFAULT_RETENTION, ...retention }, logger, blockMs: 1000 });
    const delivered: StoredEvent[] = [];
    await bus.start((room, event) => delivered.push({ room, event }));
    opened.push(bus);
    return { bus, delivered };
  },
};

before(async () => {
  redis = await startRedis();
});

// ---------------------------------------------------------------- the shared suite

for (const implementation of [inMemory, redisImplementation]) {
  describe(`${implementation.name} (bus contract)`, () => {
    const settle = async (subject: Subject, count: number) => {
      if (!implementation.synchronous) await until(() => subject.delivered.length >= count, `${count} deliveries`);
      // Anything more would be a duplicate: give a late one the chance to show up.
      if (!implementation.synchronous) await sleep(30);
    };

    it('issues increasing ids in publish order and delivers every event to the sink once, in that order', async () => {
      const subject = await implementation.open();
      const sequential = await publishAll(subject.bus, 0, 40);
      // Concurrent publishers: ids still form one total order, and the sink sees exactly that order.
      const concurrent = await Promise.all(Array.from({ length: 40 }, (_, i) => subject.bus.publish(payment(100 + i))));
      assertIncreasing(sequential, 'ids of sequential publishes');
      await settle(subject, 80);
      const deliveredIds = ids(subject.delivered);
      assert.equal(deliveredIds.length, 80, 'each event delivered exactly once');
      assertIncreasing(deliveredIds, 'sink order');
      assert.deepEqual(new Set(deliveredIds), new Set([...sequential, ...concurrent]));
      assert.deepEqual(deliveredIds.slice(0, 40), sequential);
    });

    it('delivers the room and the whole event: type, payload, correlationId, timestamp and id', async () => {
      const subject = await implementation.open();
      const before = Date.now();
      const id = await subject.bus.publish(payment(7, 'role:ADMIN'));
      const { correlationId: _none, ...withoutCorrelation } = payment(8, 'broadcast');
      const second = await subject.bus.publish(withoutCorrelation);
      await settle(subject, 2);
      const [first, other] = subject.delivered;
      assert.equal(first?.room, 'role:ADMIN');
      assert.deepEqual(
        { ...first?.event, timestamp: undefined },
        { type: 'payment:updated', payload: payment(7).payload, correlationId: 'seq-7', id, room: 'role:ADMIN', timestamp: undefined },
      );
      const stamped = Date.parse(first?.event.timestamp ?? '');
      assert.ok(stamped >= before - 1000 && stamped <= Date.now() + 1000, `timestamp ${first?.event.timestamp}`);
      assert.equal(other?.event.id, second);
      assert.equal(other?.room, 'broadcast');
      assert.equal('correlationId' in (other?.event ?? {}), false, 'no correlationId when none was given');
    });

    it('replays only the events after `since`, in order, with their rooms; nothing after the newest id', async () => {
      const subject = await implementation.open();
      const published = await publishAll(subject.bus, 0, 20);
      const replay = await subject.bus.replay(published[11]!, ALICE, 1000);
      assert.ok(replay.ok, `replay failed: ${JSON.stringify(replay)}`);
      assert.deepEqual(ids(replay.events), published.slice(12));
      assert.deepEqual(
        replay.events.map(({ room, event }) => [room, event.correlationId]),
        published.slice(12).map((_, i) => ['user:alice', `seq-${12 + i}`]),
      );
      const latest = await subject.bus.replay(published.at(-1)!, ALICE, 1000);
      assert.deepEqual(latest, { ok: true, events: [] });
    });

    it('answers too-old for an id it never issued (before, between or after its events)', async () => {
      const subject = await implementation.open();
      const published = await publishAll(subject.bus, 0, 3);
      const [ms, seq] = published[1]!.split('-').map(Number) as [number, number];
      for (const since of ['1-0', `${ms}-${seq + 1000}`, `${ms + 3_600_000}-0`]) {
        assert.deepEqual(await subject.bus.replay(since, ALICE, 1000), { ok: false, reason: 'too-old' }, since);
      }
    });

    it('reads only the rooms asked for, merged in id order: other rooms’ events are neither replayed nor counted', async () => {
      const subject = await implementation.open();
      const since = await subject.bus.publish(payment(0));
      const rooms: Room[] = ['user:alice', 'broadcast', 'payment:pay_1'];
      const mine: string[] = [];
      // Two of every three events go to rooms the client is not in: far more than its limit.
      for (let i = 1; i <= 90; i++) {
        const room: Room = i % 3 === 0 ? rooms[(i / 3) % 3]! : `user:other${i}`;
        const id = await subject.bus.publish(payment(i, room));
        if (i % 3 === 0) mine.push(id);
      }
      const replay = await subject.bus.replay(since, rooms, mine.length);
      assert.ok(replay.ok, `replay failed: ${JSON.stringify(replay)}`);
      assert.deepEqual(ids(replay.events), mine, 'the client’s 30 events, in id order across its rooms');
      assert.deepEqual(new Set(replay.events.map(({ room }) => room)), new Set(rooms));
      assert.deepEqual(await subject.bus.replay(since, rooms, mine.length - 1), { ok: false, reason: 'too-many' });
      assert.deepEqual(await subject.bus.replay(since, ['user:nobody'], 1), { ok: true, events: [] }, 'a room with no events replays nothing');
    });

    it('keeps each room’s newest `roomCount` events: a position before one it dropped is too-old, other rooms still replay', async () => {
      const subject = await implementation.open({ roomCount: 10 });
      const published = await publishAll(subject.bus, 0, 250);
      const bob = await subject.bus.publish(payment(250, 'user:bob'));
      // Alice's room kept published[240..249]. Resuming after the newest one it dropped needs only kept events.
      const oldestKept = await subject.bus.replay(published[239]!, ALICE, 1000);
      assert.ok(oldestKept.ok, `replay after the newest dropped event failed: ${JSON.stringify(oldestKept)}`);
      assert.deepEqual(ids(oldestKept.events), published.slice(240));
      for (const index of [0, 100, 238]) {
        assert.deepEqual(await subject.bus.replay(published[index]!, ALICE, 1000), { ok: false, reason: 'too-old' }, `since #${index}`);
      }
      const other = await subject.bus.replay(published[0]!, ['user:bob'], 1000);
      assert.ok(other.ok, 'a room that dropped nothing replays from far back');
      assert.deepEqual(ids(other.events), [bob]);
    });

    it('drops events older than the age limit: a resume from one is too-old, unless nothing came after it', async () => {
      const subject = await implementation.open({ ageMs: 400 });
      const old = await publishAll(subject.bus, 0, 3);
      await sleep(600);
      // A quiet client's position (the newest id when it asked): however old, nothing was missed.
      assert.deepEqual(await subject.bus.replay(old[2]!, ALICE, 1000), { ok: true, events: [] });
      assert.deepEqual(await subject.bus.replay(old[1]!, ALICE, 1000), { ok: false, reason: 'too-old' });
      const fresh = await publishAll(subject.bus, 3, 3);
      assert.deepEqual(await subject.bus.replay(old[0]!, ALICE, 1000), { ok: false, reason: 'too-old' });
      assert.deepEqual(await subject.bus.replay(old[2]!, ALICE, 1000), { ok: false, reason: 'too-old' });
      const recent = await subject.bus.replay(fresh[0]!, ALICE, 1000);
      assert.ok(recent.ok);
      assert.deepEqual(ids(recent.events), fresh.slice(1));
    });

    it('an idempotency key makes a retried publish a no-op that returns the first id, even when concurrent', async () => {
      const subject = await implementation.open();
      const first = await subject.bus.publish(payment(1), { idempotencyKey: 'pub-1' });
      const retried = await subject.bus.publish(payment(1), { idempotencyKey: 'pub-1' });
      const racing = await Promise.all(Array.from({ length: 5 }, () => subject.bus.publish(payment(2), { idempotencyKey: 'pub-2' })));
      const other = await subject.bus.publish(payment(3), { idempotencyKey: 'pub-3' });
      const unkeyed = [await subject.bus.publish(payment(4)), await subject.bus.publish(payment(4))];
      assert.equal(retried, first);
      assert.equal(new Set(racing).size, 1, `one id for five racing publishes: ${racing.join(', ')}`);
      await settle(subject, 5);
      assert.deepEqual(ids(subject.delivered), [first, racing[0], other, ...unkeyed], 'one delivery per key; no key, no deduplication');
    });

    it('reports its live position: the last id handed to the sink, or where a late start began', async () => {
      const subject = await implementation.open();
      assert.equal(subject.bus.position(), '0-0', 'nothing delivered yet');
      const published = await publishAll(subject.bus, 0, 5);
      await settle(subject, 5);
      assert.equal(subject.bus.position(), published.at(-1));
    });

    it('answers too-many when more than `limit` events of the rooms were missed, and replays exactly `limit`', async () => {
      const subject = await implementation.open();
      const published = await publishAll(subject.bus, 0, 12);
      assert.deepEqual(await subject.bus.replay(published[0]!, ALICE, 10), { ok: false, reason: 'too-many' });
      const exact = await subject.bus.replay(published[1]!, ALICE, 10);
      assert.ok(exact.ok);
      assert.equal(exact.events.length, 10);
      assert.deepEqual(await subject.bus.replay(published[0]!, ['broadcast', 'user:alice'], 10), { ok: false, reason: 'too-many' });
    });
  });
}

// ---------------------------------------------------------------- Redis only

describe('InMemoryBus (its log bound)', () => {
  it('a room whose events left the log answers too-old for positions before them; rooms that lost nothing still replay', async () => {
    const subject = await inMemory.open({ count: 20 });
    const since = await subject.bus.publish(payment(0, 'user:bob'));
    const alice = await publishAll(subject.bus, 1, 5);
    // 30 events to strangers push alice's (and the position itself) out of the 20-event log.
    for (let i = 0; i < 30; i++) await subject.bus.publish(payment(100 + i, `user:stranger${i}`));
    const bob = await subject.bus.publish(payment(200, 'user:bob'));
    assert.deepEqual(await subject.bus.replay(since, ['user:alice', 'user:bob'], 100), { ok: false, reason: 'too-old' });
    assert.deepEqual(await subject.bus.replay(alice[4]!, ['user:alice'], 100), { ok: true, events: [] }, 'nothing of alice’s after her last one');
    const quiet = await subject.bus.replay(since, ['user:bob'], 100);
    assert.ok(quiet.ok, JSON.stringify(quiet));
    assert.deepEqual(ids(quiet.events), [bob]);
  });
});

describe('RedisBus (a networked bus)', () => {
  it('a room history that another publisher bounded tighter answers too-old instead of a replay with a hole', async () => {
    const stream = `test:events:bounds:${++streams}`;
    const tight = await redisImplementation.open({ roomCount: 3 }, stream);
    const wide = await redisImplementation.open({ roomCount: 1001 }, stream);
    const published = await publishAll(tight.bus, 0, 10);
    // Its own bound would keep all ten; the history holds only the newest three.
    assert.deepEqual(await wide.bus.replay(published[2]!, ALICE, 1000), { ok: false, reason: 'too-old' });
    const kept = await wide.bus.replay(published[6]!, ALICE, 1000);
    assert.ok(kept.ok, JSON.stringify(kept));
    assert.deepEqual(ids(kept.events), published.slice(7));
  });

  it('keeps each event in the stream and in its room’s history, which expires once idle past the age', async () => {
    const stream = `test:events:keys:${++streams}`;
    const subject = await redisImplementation.open({ ageMs: 30_000 }, stream);
    const id = await subject.bus.publish(payment(1, 'payment:pay_7'));
    const admin = createClient({ url: redis.url });
    await admin.connect();
    try {
      const history = await admin.lRange(`${stream}:room:payment:pay_7`, 0, -1);
      assert.equal(history.length, 1);
      const [stored] = history as [string];
      assert.equal(stored.slice(0, stored.indexOf(' ')), id, 'the same id in the room’s history');
      assert.deepEqual(JSON.parse(stored.slice(stored.indexOf(' ') + 1)).payload, payment(1).payload);
      const ttl = await admin.pTTL(`${stream}:room:payment:pay_7`);
      assert.ok(ttl > 29_000 && ttl <= 31_000, `room history expires with the age (+1 s): ${ttl} ms`);
      assert.equal(await admin.xLen(stream), 1);
    } finally {
      await admin.close();
    }
  });

  it('every bus on the stream delivers every event, in the same order, whoever published it', async () => {
    const stream = `test:events:shared:${++streams}`;
    const a = await redisImplementation.open({}, stream);
    const b = await redisImplementation.open({}, stream);
    const published = await Promise.all(
      Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? a : b).bus.publish(payment(i))),
    );
    await until(() => a.delivered.length >= 30 && b.delivered.length >= 30, 'both buses deliver 30 events');
    await sleep(30);
    assert.deepEqual(ids(a.delivered), ids(b.delivered));
    assert.deepEqual(new Set(ids(a.delivered)), new Set(published));
    assertIncreasing(ids(a.delivered), 'shared order');
  });

  it('a bus that starts late delivers only what is published after its start (the rest is replay)', async () => {
    const stream = `test:events:late:${++streams}`;
    const early = await redisImplementation.open({}, stream);
    const before = await publishAll(early.bus, 0, 5);
    const late = await redisImplementation.open({}, stream);
    assert.equal(late.bus.position(), before.at(-1), 'a late start begins after the newest event');
    const afterwards = await publishAll(early.bus, 5, 3);
    await until(() => late.delivered.length >= 3, 'late bus deliveries');
    await sleep(30);
    assert.deepEqual(ids(late.delivered), afterwards);
    const replay = await late.bus.replay(before[0]!, ALICE, 100);
    assert.ok(replay.ok);
    assert.deepEqual(ids(replay.events), [...before.slice(1), ...afterwards]);
  });

  it('a reader whose connection is killed reconnects and continues from its last id: no duplicate, no gap', async () => {
    const subject = await redisImplementation.open();
    const first = await publishAll(subject.bus, 0, 20);
    await until(() => subject.delivered.length >= 20, 'first 20 deliveries');
    const admin = createClient({ url: redis.url });
    await admin.connect();
    try {
      // Cut every other client (the bus's reader and writer) mid-XREAD BLOCK.
      const killed = await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
      assert.ok(Number(killed) >= 2, `killed ${String(killed)} connections`);
      const second: string[] = [];
      for (let i = 20; second.length < 20; i++) {
        try {
          second.push(await subject.bus.publish(payment(i)));
        } catch (error) {
          assert.ok(error instanceof BusUnavailable, `publish failed with ${String(error)}`);
          await sleep(20);
        }
      }
      await until(() => subject.delivered.length >= 40, '40 deliveries');
      await sleep(300); // a re-read from an old id would show up within one retry
      assert.deepEqual(ids(subject.delivered), [...first, ...second]);
    } finally {
      await admin.close();
    }
  });

  it('a bus started while Redis is down waits for it, then works (a gateway does not come up without its bus)', async () => {
    const own = await startRedis();
    await own.stop('SIGKILL');
    const bus = new RedisBus({ redis: own.settings, stream: 'test:late-redis', retention: DEFAULT_RETENTION, logger, blockMs: 1000 });
    opened.push(bus);
    const delivered: StoredEvent[] = [];
    let started = false;
    const starting = bus.start((room, event) => delivered.push({ room, event })).then(() => (started = true));
    await sleep(300);
    assert.equal(started, false, 'start waits for Redis');
    await own.start();
    await starting;
    const id = await bus.publish(payment(1));
    await until(() => delivered.length === 1, 'delivery');
    assert.equal(delivered[0]?.event.id, id);
  });

  it('after Redis lost its data (no persistence), old ids are too-old and new events still flow', async () => {
    const volatile = await startRedis({ persistent: false });
    const bus = new RedisBus({ redis: volatile.settings, stream: 'test:volatile', retention: DEFAULT_RETENTION, logger, blockMs: 1000 });
    opened.push(bus);
    const delivered: StoredEvent[] = [];
    await bus.start((room, event) => delivered.push({ room, event }));
    const before = await publishAll(bus, 0, 3);
    await until(() => delivered.length === 3, 'first deliveries');
    await volatile.stop('SIGKILL');
    await volatile.start();
    const afterwards: string[] = [];
    for (let i = 3; afterwards.length < 3; i++) {
      try {
        afterwards.push(await bus.publish(payment(i)));
      } catch (error) {
        assert.ok(error instanceof BusUnavailable);
        await sleep(25);
      }
    }
    await until(() => delivered.length === 6, 'deliveries after the data loss', 8000);
    assert.deepEqual(ids(delivered), [...before, ...afterwards]);
    assert.deepEqual(await bus.replay(before[2]!, ALICE, 100), { ok: false, reason: 'too-old' }, 'the client reloads instead');
  });

  it('while Redis is down: publish throws BusUnavailable, replay answers unavailable; it recovers on its own and loses nothing accepted', async () => {
    const subject = await redisImplementation.open();
    const before = await publishAll(subject.bus, 0, 10);
    await until(() => subject.delivered.length >= 10, 'first deliveries');
    await redis.stop('SIGKILL');
    try {
      await assert.rejects(
        (async () => {
          // The first publish may race the client noticing the closed socket; within a second it must fail fast.
          const deadline = Date.now() + 1000;
          while (Date.now() < deadline) {
            await subject.bus.publish(payment(99));
            await sleep(10);
          }
        })(),
        (error: unknown) => error instanceof BusUnavailable && error.status === 503,
      );
      // Fails fast, not queued in the process: a queued publish could only settle once Redis is back.
      await assert.rejects(subject.bus.publish(payment(98)), BusUnavailable);
      assert.equal(redis.running, false, 'refused while Redis was still down');
      assert.deepEqual(await subject.bus.replay(before[0]!, ALICE, 100), { ok: false, reason: 'unavailable' });
    } finally {
      await redis.start();
    }
    const afterwards: string[] = [];
    const deadline = Date.now() + 5000;
    for (let i = 10; afterwards.length < 10; i++) {
      try {
        afterwards.push(await subject.bus.publish(payment(i)));
      } catch (error) {
        assert.ok(error instanceof BusUnavailable);
        if (Date.now() > deadline) throw new Error('publishing did not recover within 5 s of Redis coming back');
        await sleep(25);
      }
    }
    await until(() => subject.delivered.length >= 20, 'deliveries after recovery', 8000);
    await sleep(100);
    assert.deepEqual(ids(subject.delivered), [...before, ...afterwards], 'no duplicate, no gap, in order');
    // What was accepted before the outage is still there (Redis persisted it) and replays.
    const replay = await subject.bus.replay(before[0]!, ALICE, 100);
    assert.ok(replay.ok, JSON.stringify(replay));
    assert.deepEqual(ids(replay.events), [...before.slice(1), ...afterwards]);
  });
});
