/** One behavioural suite, two payment stores: in memory, and Redis (a real redis-server on a free port). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { canTransitionPayment, PAYMENT_STATUSES } from '@payments-system/protocol';
import { startRedis, type RedisServer } from '../../../test/bus/redis-server.ts';
import { IllegalTransition, InMemoryPaymentStore, PaymentNotFound, type PaymentStore } from './payment-store.ts';
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

const implementations: Array<[string, (max?: number) => Promise<PaymentStore>]> = [
  ['in memory', async (max) => new InMemoryPaymentStore(max, ticking())],
  [
    'redis',
    async (max) => {
      const store = new RedisPaymentStore(redis.url, max, `test${++prefixes}:`, ticking());
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

    it('stays bounded, dropping the oldest', async () => {
      const store = await open(3);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await store.create(input)).paymentId);
      assert.deepEqual((await store.list()).map((p) => p.paymentId), ids.slice(2).reverse());
      assert.equal(await store.get(ids[0] as string), undefined);
    });
  });
}
