/** One behavioural suite, two session stores: in memory, and Redis (a real redis-server on a free port). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startRedis, type RedisServer } from '../../../test/bus/redis-server.ts';
import { RedisConnection } from '../../redis/connection.ts';
import { RedisSessionStore } from './redis-session-store.ts';
import { InMemorySessionStore, RefreshRefused, type SessionStore } from './session-store.ts';

const refusal = (reason: string) => (error: unknown) => error instanceof RefreshRefused && error.reason === reason;

let redis: RedisServer;
let prefixes = 0;
const stores: SessionStore[] = [];
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await Promise.all(stores.map((store) => store.close()));
});

const implementations: Array<[string, (ttlSeconds: number, now?: () => number) => Promise<SessionStore>]> = [
  ['in memory', async (ttl, now) => new InMemorySessionStore(ttl, now)],
  [
    'redis',
    async (ttl, now) => {
      const store = new RedisSessionStore(new RedisConnection(redis.settings, { name: 'sessions', failFast: true }), ttl, `test${++prefixes}:`, now);
      await store.connect();
      return store;
    },
  ],
];

for (const [name, open] of implementations) {
  describe(`session store (${name})`, () => {
    const make = async (ttl = 60, now?: () => number) => {
      const store = await open(ttl, now);
      stores.push(store);
      return store;
    };

    it('rotates refresh tokens: each is single use', async () => {
      const store = await make();
      const first = await store.start('alice');
      const second = await store.rotate(first.refreshToken);
      assert.equal(second.sessionId, first.sessionId);
      assert.equal(second.userId, 'alice');
      assert.notEqual(second.refreshToken, first.refreshToken);
      assert.ok((await store.rotate(second.refreshToken)).refreshToken);
    });

    it('revokes the whole family when a used token comes back', async () => {
      const store = await make();
      const first = await store.start('alice');
      const second = await store.rotate(first.refreshToken);
      await assert.rejects(store.rotate(first.refreshToken), refusal('reused'));
      await assert.rejects(store.rotate(second.refreshToken), refusal('revoked'), 'the thief and the owner are both out');
      assert.equal(await store.isRevoked(first.sessionId), true);
    });

    it('lets only one of two racing refreshes with the same token win', async () => {
      const store = await make();
      const issued = await store.start('alice');
      const results = await Promise.allSettled([store.rotate(issued.refreshToken), store.rotate(issued.refreshToken)]);
      assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    });

    it('refuses unknown and expired tokens', async () => {
      let now = Date.now();
      const store = await make(60, () => now);
      await assert.rejects(store.rotate('never-issued-token-value'), refusal('unknown'));
      const issued = await store.start('bob');
      now += 61_000;
      await assert.rejects(store.rotate(issued.refreshToken), (error: unknown) => refusal('expired')(error) || refusal('unknown')(error));
    });

    it('revokes every session of one user and no other', async () => {
      const store = await make();
      const laptop = await store.start('alice');
      const phone = await store.start('alice');
      const bob = await store.start('bob');
      assert.deepEqual((await store.revokeUser('alice')).sort(), [laptop.sessionId, phone.sessionId].sort());
      await assert.rejects(store.rotate(phone.refreshToken), refusal('revoked'));
      assert.equal(await store.isRevoked(phone.sessionId), true);
      assert.equal(await store.isRevoked(bob.sessionId), false);
      assert.ok(await store.rotate(bob.refreshToken));
    });
  });
}

describe('session store (redis) while Redis is down', () => {
  it('rejects with a 503 error rather than hanging or pretending', async () => {
    const down = await startRedis();
    const store = new RedisSessionStore(new RedisConnection(down.settings, { name: 'sessions', failFast: true }), 60, 'down:');
    await store.connect();
    await down.stop();
    await assert.rejects(store.start('alice'), (error: unknown) => (error as { status?: number }).status === 503);
    await store.close();
  });
});
