/** Ping/pong, default rooms, multi-tab delivery without cross-user leaks, subscribe/unsubscribe. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { connect } from './support/client.ts';
import { ADMIN, ALICE, BOB, startTestGateway, VENDOR, type TestGateway } from './support/gateway.ts';

const notice = (message: string) => ({ type: 'system:broadcast' as const, payload: { message, level: 'info' as const } });

describe('delivery', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway();
  });

  it('answers ping with pong, echoing the correlationId, with an ISO timestamp', async () => {
    const client = await connect(gateway.wsUrl, gateway.token(ALICE));
    client.send({ type: 'ping', timestamp: '2026-12-11T10:00:00Z', correlationId: 'abc-1' });
    const pong = await client.next('pong');
    assert.equal(pong.correlationId, 'abc-1');
    assert.deepEqual(pong.payload, {});
    assert.ok(!Number.isNaN(Date.parse(pong.timestamp)));
  });

  it("delivers a user's messages to every socket of that user (tabs, devices), and to nobody else", async () => {
    const tab1 = await connect(gateway.wsUrl, gateway.token(ALICE));
    const tab2 = await connect(gateway.wsUrl, gateway.token(ALICE));
    const bob = await connect(gateway.wsUrl, gateway.token(BOB));
    const id = await gateway.publish({ room: 'user:alice', ...notice('for alice') });
    for (const tab of [tab1, tab2]) {
      const event = await tab.next('system:broadcast');
      assert.equal(event.payload.message, 'for alice');
      assert.equal(event.id, id);
    }
    // Bob's next event must be his own: the one for alice never reached him.
    await gateway.publish({ room: 'user:bob', ...notice('for bob') });
    assert.equal((await bob.next('system:broadcast')).payload.message, 'for bob');
  });

  it('puts every socket in its role room and the broadcast room', async () => {
    const alice = await connect(gateway.wsUrl, gateway.token(ALICE));
    const vendor = await connect(gateway.wsUrl, gateway.token(VENDOR));
    const admin = await connect(gateway.wsUrl, gateway.token(ADMIN));
    await gateway.publish({ room: 'role:VENDOR', ...notice('vendors only') });
    await gateway.publish({ room: 'broadcast', ...notice('everyone') });
    assert.equal((await vendor.next('system:broadcast')).payload.message, 'vendors only');
    assert.equal((await vendor.next('system:broadcast')).payload.message, 'everyone');
    assert.equal((await alice.next('system:broadcast')).payload.message, 'everyone');
    assert.equal((await admin.next('system:broadcast')).payload.message, 'everyone');
  });

  it('carries the publisher correlationId and the event id to the receivers', async () => {
    const alice = await connect(gateway.wsUrl, gateway.token(ALICE));
    const payment = { paymentId: 'pay_123', status: 'completed', amount: '100.00', currency: 'EUR' } as const;
    const id = await gateway.publish({ room: 'user:alice', type: 'payment:updated', payload: payment, correlationId: 'trace-7' });
    const event = await alice.next('payment:updated');
    assert.deepEqual(event.payload, payment);
    assert.equal(event.correlationId, 'trace-7');
    assert.equal(event.id, id);
  });

  it('delivers to a room an admin subscribed to, and stops after unsubscribe', async () => {
    const admin = await connect(gateway.wsUrl, gateway.token(ADMIN));
    assert.equal((await admin.request({ type: 'subscribe', payload: { room: 'payment:pay_9' } })).type, 'subscribed');
    await gateway.publish({ room: 'payment:pay_9', ...notice('first') });
    assert.equal((await admin.next('system:broadcast')).payload.message, 'first');

    const reply = await admin.request({ type: 'unsubscribe', payload: { room: 'payment:pay_9' } });
    assert.equal(reply.type, 'unsubscribed');
    assert.deepEqual(reply.payload, { room: 'payment:pay_9' });
    await gateway.publish({ room: 'payment:pay_9', ...notice('second') });
    await gateway.publish({ room: 'user:admin_1', ...notice('marker') });
    assert.equal((await admin.next('system:broadcast')).payload.message, 'marker');
  });

  it('subscribing twice is harmless: one delivery per event', async () => {
    const admin = await connect(gateway.wsUrl, gateway.token(ADMIN));
    await admin.request({ type: 'subscribe', payload: { room: 'payment:pay_2' } });
    await admin.request({ type: 'subscribe', payload: { room: 'payment:pay_2' } });
    await gateway.publish({ room: 'payment:pay_2', ...notice('once') });
    await gateway.publish({ room: 'user:admin_1', ...notice('marker') });
    assert.equal((await admin.next('system:broadcast')).payload.message, 'once');
    assert.equal((await admin.next('system:broadcast')).payload.message, 'marker');
  });

  it('publishes through HTTP to the room, answering 202 with the id the sockets see', async () => {
    const bob = await connect(gateway.wsUrl, gateway.token(BOB));
    const response = await fetch(`${gateway.url}/api/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gateway.token(ADMIN)}` },
      body: JSON.stringify({ room: 'user:bob', type: 'session:sync', payload: { userId: 'bob', sessionId: 's1', action: 'logout' } }),
    });
    assert.equal(response.status, 202);
    const { id } = (await response.json()) as { id: string };
    const event = await bob.next('session:sync');
    assert.equal(event.id, id);
    assert.deepEqual(event.payload, { userId: 'bob', sessionId: 's1', action: 'logout' });
  });

  it('reports open sockets in /api/health', async () => {
    const gateway = await startTestGateway();
    const before = (await (await fetch(`${gateway.url}/api/health`)).json()) as { connections: number };
    const client = await connect(gateway.wsUrl, gateway.token(BOB));
    const during = (await (await fetch(`${gateway.url}/api/health`)).json()) as { status: string; connections: number };
    assert.equal(during.status, 'ok');
    assert.equal(during.connections, before.connections + 1);
    await client.close();
  });
});
