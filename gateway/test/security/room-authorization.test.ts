/** Who may join which room: customers and vendors only their own, admins any. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { connect } from '../support/client.ts';
import { ADMIN, ALICE, startTestGateway, VENDOR, type TestGateway } from '../support/gateway.ts';

describe('room authorization', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway();
  });

  const forbidden: Array<[string, typeof ALICE, string]> = [
    ["a customer, another user's room", ALICE, 'user:bob'],
    ['a customer, the admin role room', ALICE, 'role:ADMIN'],
    ['a customer, the vendor role room', ALICE, 'role:VENDOR'],
    ['a customer, a payment room without access', ALICE, 'payment:pay_1'],
    ["a vendor, a customer's room", VENDOR, 'user:alice'],
    ['a vendor, the customer role room', VENDOR, 'role:CUSTOMER'],
  ];
  for (const [who, subject, room] of forbidden) {
    it(`refuses ${who} with FORBIDDEN naming the room, echoing the correlationId`, async () => {
      const client = await connect(gateway.wsUrl, gateway.token(subject));
      client.send({ type: 'subscribe', payload: { room }, correlationId: 'sub-1' });
      const reply = await client.next('error');
      assert.deepEqual(reply.payload, { code: 'FORBIDDEN', room, message: `not allowed to join ${room}` });
      assert.equal(reply.correlationId, 'sub-1');
    });
  }

  const allowed: Array<[string, typeof ALICE, string]> = [
    ['a customer, their own user room', ALICE, 'user:alice'],
    ['a customer, their own role room', ALICE, 'role:CUSTOMER'],
    ['a customer, the broadcast room', ALICE, 'broadcast'],
    ['a vendor, their own role room', VENDOR, 'role:VENDOR'],
    ["an admin, another user's room", ADMIN, 'user:alice'],
    ['an admin, another role room', ADMIN, 'role:CUSTOMER'],
    ['an admin, a payment room', ADMIN, 'payment:pay_1'],
  ];
  for (const [who, subject, room] of allowed) {
    it(`lets ${who} subscribe`, async () => {
      const client = await connect(gateway.wsUrl, gateway.token(subject));
      client.send({ type: 'subscribe', payload: { room }, correlationId: 'sub-2' });
      const reply = await client.next('subscribed');
      assert.deepEqual(reply.payload, { room });
      assert.equal(reply.correlationId, 'sub-2');
    });
  }

  it('keeps a forbidden room closed: nothing published there reaches the refused socket', async () => {
    const alice = await connect(gateway.wsUrl, gateway.token(ALICE));
    await alice.request({ type: 'subscribe', payload: { room: 'user:bob' } });
    await gateway.publish({ room: 'user:bob', type: 'system:broadcast', payload: { message: 'for bob', level: 'info' } });
    await gateway.publish({ room: 'user:alice', type: 'system:broadcast', payload: { message: 'for alice', level: 'info' } });
    const first = await alice.next('system:broadcast');
    assert.equal(first.payload.message, 'for alice');
  });
});
