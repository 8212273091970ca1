import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canTransitionPayment, PAYMENT_STATUSES } from '@payments-system/protocol';
import { IllegalTransition, PaymentNotFound, PaymentStore } from './payment-store.ts';

const input = { ownerId: 'alice', amount: '12.50', currency: 'EUR', description: 'coffee' };

describe('payment state machine', () => {
  it('allows exactly pending → processing → completed | failed, completed → refunded', () => {
    const allowed = PAYMENT_STATUSES.flatMap((from) => PAYMENT_STATUSES.filter((to) => canTransitionPayment(from, to)).map((to) => `${from}→${to}`));
    assert.deepEqual(allowed, ['pending→processing', 'processing→completed', 'processing→failed', 'completed→refunded']);
  });
});

describe('PaymentStore', () => {
  it('creates pending payments and lists them newest first, per owner', () => {
    const store = new PaymentStore();
    const a = store.create(input);
    const b = store.create({ ...input, ownerId: 'bob' });
    assert.equal(a.status, 'pending');
    assert.deepEqual(store.list().map((p) => p.paymentId), [b.paymentId, a.paymentId]);
    assert.deepEqual(store.list('alice').map((p) => p.paymentId), [a.paymentId]);
  });

  it('moves a payment through legal transitions and refuses illegal ones', () => {
    const store = new PaymentStore();
    const { paymentId } = store.create(input);
    assert.throws(() => store.transition(paymentId, 'completed'), IllegalTransition);
    assert.equal(store.transition(paymentId, 'processing').payment.status, 'processing');
    const { payment, previous } = store.transition(paymentId, 'completed');
    assert.equal(previous.status, 'processing');
    assert.equal(payment.status, 'completed');
    assert.throws(() => store.transition(paymentId, 'failed'), /cannot move a payment from completed to failed/);
    assert.throws(() => store.transition('pay_missing', 'processing'), PaymentNotFound);
  });

  it('stays bounded, dropping the oldest', () => {
    const store = new PaymentStore(3);
    const ids = Array.from({ length: 5 }, () => store.create(input).paymentId);
    assert.deepEqual(store.list().map((p) => p.paymentId), ids.slice(2).reverse());
  });
});
