/** One behavioural suite, two payment stores: in memory, and Redis (a real redis-server on a free port). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { canTransitionPayment, PAYMENT_STATUSES } from '@payments-system/protocol';
import { startRedis, type RedisServer } from '../../../test/bus/redis-server.ts';
import { IllegalTransition, InMemoryPaymentStore, PaymentNotFound, StoreFull, type PaymentLimits, type PaymentStore } from './payment-store.ts';
import { RedisConnection } from '../../redis/connection.ts';
import { RedisPaymentStore } from './redis-payment-store.ts';

const input = { ownerId: 'alice', amount: '12.50', currency: 'EUR', description: 'coffee' };

describe('payment state machine', () => {
  it('allows exactly pending → processing → completed | failed, completed → refunded', () => {
    const allowed = PAYMENT_STATUSES.flatMap((from) => PAYMENT_STATUSES.filter((to) => canTransitionPayment(from, to)).map((to) => `${from}→${to}`));
    assert.deepEqual(allowed, ['pending→processing', 'processing→completed', 'processing→failed', 'completed→refunded']);
  });
});

let redis: RedisServer;
let prefixes = 0;
const redisStores: RedisPaymentStore[] = [];
before(async () => {
  redis = await startRedis({ persistent: false });
});
after(async () => {
  await Promise.all(redisStores.map((store) => store.close()));
});

// Distinct creation times, so that "newest first" is well defined in both stores.
const ticking = () => {
  let ms = Date.parse('2026-12-11T10:00:00Z');
  return () => new Date((ms += 1000));
};

const implementations: Array<[string, (limits?: PaymentLimits) => Promise<PaymentStore>]> = [
  ['in memory', async (limits) => new InMemoryPaymentStore(limits, ticking())],
  [
    'redis',
    async (limits) => {
      const store = new RedisPaymentStore(new RedisConnection(redis.settings, { name: 'payments', failFast: true }), limits, `test${++prefixes}:`, ticking());
      await store.connect();
      redisStores.push(store);
      return store;
    },
  ],
];

for (const [name, open] of implementations) {
  describe(`payment store (${name})`, () => {
    it('creates pending payments and lists them newest first, per owner', async () => {
      const store = await open();
      const a = await store.create(input);
      const b = await store.create({ ...input, ownerId: 'bob' });
      assert.equal(a.status, 'pending');
      assert.deepEqual(await store.get(a.paymentId), a);
      assert.deepEqual((await store.list()).map((p) => p.paymentId), [b.paymentId, a.paymentId]);
      assert.deepEqual((await store.list('alice')).map((p) => p.paymentId), [a.paymentId]);
      assert.deepEqual((await store.inFlight()).map((p) => p.paymentId), [a.paymentId, b.paymentId], 'oldest first');
    });

    it('moves a payment through legal transitions and refuses illegal ones', async () => {
      const store = await open();
      const { paymentId } = await store.create(input);
      await assert.rejects(store.transition(paymentId, 'completed'), IllegalTransition);
      assert.equal((await store.transition(paymentId, 'processing')).payment.status, 'processing');
      const { payment, previous } = await store.transition(paymentId, 'completed');
      assert.equal(previous.status, 'processing');
      assert.equal(payment.status, 'completed');
      assert.deepEqual(await store.get(paymentId), payment);
      assert.deepEqual(await store.inFlight(), []);
      await assert.rejects(store.transition(paymentId, 'failed'), /cannot move a payment from completed to failed/);
      await assert.rejects(store.transition('pay_missing', 'processing'), PaymentNotFound);
    });

    it('lets only one of two racing status changes win', async () => {
      const store = await open();
      const { paymentId } = await store.create(input);
      await store.transition(paymentId, 'processing');
      const results = await Promise.allSettled([store.transition(paymentId, 'completed'), store.transition(paymentId, 'failed')]);
      assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    });

    it('bounds each owner on their own: past the bound an owner loses their own oldest, never another owner\'s', async () => {
      const store = await open({ maxPerOwner: 3, maxTotal: 100 });
      const bobs = [await store.create({ ...input, ownerId: 'bob' }), await store.create({ ...input, ownerId: 'bob' })];
      const alices: string[] = [];
      for (let i = 0; i < 10; i++) alices.push((await store.create(input)).paymentId);
      assert.deepEqual((await store.list('alice')).map((p) => p.paymentId), alices.slice(-3).reverse());
      assert.deepEqual((await store.list('bob')).map((p) => p.paymentId), bobs.map((p) => p.paymentId).reverse(), "bob's payments survive alice's flood");
      assert.equal(await store.get(alices[0] as string), undefined);
      assert.equal((await store.list()).length, 5);
    });

    it('refuses new payments when full instead of dropping anyone\'s', async () => {
      const store = await open({ maxPerOwner: 2, maxTotal: 3 });
      const bob = await store.create({ ...input, ownerId: 'bob' });
      await store.create(input);
      await store.create(input);
      await assert.rejects(store.create({ ...input, ownerId: 'carol' }), StoreFull);
      assert.deepEqual(await store.get(bob.paymentId), bob);
      // An owner at their own bound replaces their own oldest, which keeps the total.
      const newest = await store.create(input);
      assert.equal((await store.list('alice'))[0]?.paymentId, newest.paymentId);
      assert.equal((await store.list()).length, 3);
    });
  });
}
