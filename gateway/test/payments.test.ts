/** The payments API and the events each change sends. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { connect } from './support/client.ts';
import { ADMIN, ALICE, BOB, body, callApi, startDemoGateway, VENDOR, type TestGateway } from './support/gateway.ts';

interface PaymentBody {
  paymentId: string;
  ownerId: string;
  status: string;
  amount: string;
  currency: string;
  description: string;
}

describe('payments API', () => {
  let gateway: TestGateway;
  const create = async (token: string, json: unknown = { amount: '12.50', currency: 'EUR', description: 'Coffee beans' }) => {
    const response = await callApi(gateway, 'POST', '/api/payments', token, json);
    assert.equal(response.status, 201);
    return (await response.json()) as PaymentBody;
  };
  before(async () => {
    gateway = await startDemoGateway();
  });

  it('lets a customer create a payment: pending, exact amount, announced to owner and admins', async () => {
    const alice = await connect(gateway.wsUrl, gateway.token(ALICE));
    const admin = await connect(gateway.wsUrl, gateway.token(ADMIN));
    const bob = await connect(gateway.wsUrl, gateway.token(BOB));
    const payment = await create(gateway.token(ALICE));
    assert.equal(payment.status, 'pending');
    assert.equal(payment.amount, '12.50');
    assert.equal(payment.ownerId, 'alice');
    for (const socket of [alice, admin]) {
      const event = await socket.next('payment:updated');
      assert.equal(event.payload.paymentId, payment.paymentId);
      assert.equal(event.payload.status, 'pending');
      assert.equal(event.payload.amount, '12.50');
    }
    await gateway.publish({ room: 'user:bob', type: 'system:broadcast', payload: { message: 'marker', level: 'info' } });
    assert.equal((await bob.next()).type, 'system:broadcast', "bob never saw alice's payment");
  });

  it('lists all payments for admins and only their own for others', async () => {
    const mine = await create(gateway.token(ALICE));
    const theirs = await create(gateway.token(BOB));
    const list = async (token: string) =>
      ((await (await callApi(gateway, 'GET', '/api/payments', token)).json()) as { payments: PaymentBody[] }).payments.map((p) => p.paymentId);
    assert.ok((await list(gateway.token(ADMIN))).includes(mine.paymentId));
    assert.ok((await list(gateway.token(ADMIN))).includes(theirs.paymentId));
    assert.ok((await list(gateway.token(ALICE))).includes(mine.paymentId));
    assert.ok(!(await list(gateway.token(ALICE))).includes(theirs.paymentId));
    assert.deepEqual(await list(gateway.token(VENDOR)), []);
    assert.equal((await callApi(gateway, 'GET', '/api/payments', 'nope')).status, 401);
  });

  it('lets admins move a payment along the state machine; each step reaches the owner, terminal ones with a notification', async () => {
    const payment = await create(gateway.token(ALICE));
    const alice = await connect(gateway.wsUrl, gateway.token(ALICE));
    for (const status of ['processing', 'completed', 'refunded']) {
      const response = await callApi(gateway, 'PATCH', `/api/payments/${payment.paymentId}`, gateway.token(ADMIN), { status });
      assert.equal(response.status, 200);
      assert.equal(((await response.json()) as PaymentBody).status, status);
      const event = await alice.next('payment:updated');
      assert.equal(event.payload.status, status);
    }
    const notices = [await alice.next('notification:new'), await alice.next('notification:new')];
    assert.deepEqual(notices.map((n) => [n.payload.title, n.payload.paymentId]), [
      ['Payment completed', payment.paymentId],
      ['Payment refunded', payment.paymentId],
    ]);
  });

  it('answers an illegal transition with 409, an unknown payment with 404, a non-admin with 403', async () => {
    const payment = await create(gateway.token(ALICE));
    const illegal = await callApi(gateway, 'PATCH', `/api/payments/${payment.paymentId}`, gateway.token(ADMIN), { status: 'completed' });
    assert.equal(illegal.status, 409);
    assert.deepEqual(await body(illegal), { error: { code: 'CONFLICT', message: 'cannot move a payment from pending to completed' } });
    assert.equal((await callApi(gateway, 'PATCH', '/api/payments/pay_nope', gateway.token(ADMIN), { status: 'processing' })).status, 404);
    assert.equal((await callApi(gateway, 'PATCH', `/api/payments/${payment.paymentId}`, gateway.token(ALICE), { status: 'processing' })).status, 403);
  });

  it('lets only customers create payments', async () => {
    assert.equal((await callApi(gateway, 'POST', '/api/payments', gateway.token(ADMIN), { amount: '1.00', currency: 'EUR', description: 'x' })).status, 403);
    assert.equal((await callApi(gateway, 'POST', '/api/payments', gateway.token(VENDOR), { amount: '1.00', currency: 'EUR', description: 'x' })).status, 403);
  });

  const badBodies: Array<[string, unknown, RegExp]> = [
    ['a float amount', { amount: 12.5, currency: 'EUR', description: 'x' }, /amount/],
    ['three decimals', { amount: '1.005', currency: 'EUR', description: 'x' }, /amount: must be a decimal string with at most 2 decimals/],
    ['a zero amount', { amount: '0.00', currency: 'EUR', description: 'x' }, /amount: must be greater than 0/],
    ['a negative amount', { amount: '-5', currency: 'EUR', description: 'x' }, /amount/],
    ['an unknown currency', { amount: '1.00', currency: 'XYZ', description: 'x' }, /currency/],
    ['a blank description', { amount: '1.00', currency: 'EUR', description: '   ' }, /description: must not be empty/],
    ['a description over 280 characters', { amount: '1.00', currency: 'EUR', description: 'x'.repeat(281) }, /description/],
    ['an unknown status', { status: 'teleported' }, /status/],
  ];
  for (const [what, json, message] of badBodies) {
    it(`answers ${what} with 400 naming the field`, async () => {
      const isStatus = typeof json === 'object' && json !== null && 'status' in json;
      const target = isStatus ? (await create(gateway.token(ALICE))).paymentId : '';
      const response = isStatus
        ? await callApi(gateway, 'PATCH', `/api/payments/${target}`, gateway.token(ADMIN), json)
        : await callApi(gateway, 'POST', '/api/payments', gateway.token(ALICE), json);
      assert.equal(response.status, 400);
      assert.match((await body(response)).error?.message ?? '', message);
    });
  }

  it('lets the owner watch their payment room, and nobody else but admins', async () => {
    const payment = await create(gateway.token(ALICE));
    const alice = await connect(gateway.wsUrl, gateway.token(ALICE));
    const bob = await connect(gateway.wsUrl, gateway.token(BOB));
    assert.equal((await alice.request({ type: 'subscribe', payload: { room: `payment:${payment.paymentId}` } })).type, 'subscribed');
    assert.equal((await bob.request({ type: 'subscribe', payload: { room: `payment:${payment.paymentId}` } })).type, 'error');
  });
});
