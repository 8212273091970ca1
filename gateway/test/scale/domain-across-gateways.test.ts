/**
 * The demo's domain behind two gateways on one Redis, as in the compose stack: a payment created
 * through one gateway is listed and moved through the other, and the events reach sockets on both.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import type { Payment } from '@payments-system/protocol';
import { startRedis } from '../bus/redis-server.ts';
import { connect } from '../support/client.ts';
import { ADMIN, ALICE, callApi, startDemoGateway, type TestGateway } from '../support/gateway.ts';

describe('payments across two gateways on one Redis', () => {
  let a: TestGateway;
  let b: TestGateway;
  before(async () => {
    const redis = await startRedis({ persistent: false });
    const options = { jwtSecret: randomBytes(32).toString('hex'), redisUrl: redis.url };
    a = await startDemoGateway(options);
    b = await startDemoGateway(options);
  });

  it('creates on A, lists and moves on B; the owner on A and the admin on B see every step', async () => {
    const owner = await connect(a.wsUrl, a.token(ALICE));
    const admin = await connect(b.wsUrl, b.token(ADMIN));
    const created = await callApi(a, 'POST', '/api/payments', a.token(ALICE), { amount: '20.00', currency: 'EUR', description: 'shared' });
    assert.equal(created.status, 201);
    const payment = (await created.json()) as Payment;

    const listed = (await (await callApi(b, 'GET', '/api/payments', b.token(ADMIN))).json()) as { payments: Payment[] };
    assert.ok(listed.payments.some((p) => p.paymentId === payment.paymentId), 'B lists what A created');
    const moved = await callApi(b, 'PATCH', `/api/payments/${payment.paymentId}`, b.token(ADMIN), { status: 'processing' });
    assert.equal(moved.status, 200);
    const illegal = await callApi(a, 'PATCH', `/api/payments/${payment.paymentId}`, a.token(ADMIN), { status: 'processing' });
    assert.equal(illegal.status, 409, 'A sees the status B set');

    for (const socket of [owner, admin]) {
      assert.equal((await socket.next('payment:updated')).payload.status, 'pending');
      assert.equal((await socket.next('payment:updated')).payload.status, 'processing');
    }
    // The owner may watch the payment's room on B, which learnt the owner from the bus.
    const onB = await connect(b.wsUrl, b.token(ALICE));
    assert.equal((await onB.request({ type: 'subscribe', payload: { room: `payment:${payment.paymentId}` } })).type, 'subscribed');
  });
});
