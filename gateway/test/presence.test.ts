/**
 * Presence on one gateway (the in-memory store), real sockets on loopback, the demo's payment rooms:
 * every case of the `presence` contract. A watcher's `ping` marks the end of what it was sent: the
 * gateway answers in order, so whatever arrives before the pong is everything a change caused.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { CloseCode, type PresenceRoom, type ServerMessage } from '@payments-system/protocol';
import { HAND_OVER_GRACE_MS } from '../src/realtime/presence.ts';
import { connect, type TestClient } from './support/client.ts';
import { ADMIN, ALICE, BOB, callApi, eventually, startDemoGateway, type TestGateway } from './support/gateway.ts';

/** Everything the client got up to the answer of a ping sent now (presence changes only). */
async function changesSoFar(client: TestClient): Promise<Array<[string, unknown]>> {
  const correlationId = `mark-${Math.random()}`;
  client.send({ type: 'ping', correlationId });
  const seen: ServerMessage[] = [];
  for (;;) {
    const message = await client.next();
    if (message.correlationId === correlationId) break;
    seen.push(message);
  }
  return seen.filter((m) => m.type.startsWith('presence:')).map((m) => [m.type, m.payload]);
}

async function watch(client: TestClient, room: PresenceRoom): Promise<ServerMessage> {
  return client.request({ type: 'presence', payload: { room, watch: true } });
}

const CAROL = { userId: 'carol', email: 'carol@demo.test', role: 'CUSTOMER' } as const;

describe('presence on one gateway', () => {
  let gateway: TestGateway;
  let alicePayment: string;
  before(async () => {
    gateway = await startDemoGateway();
    const created = await callApi(gateway, 'POST', '/api/payments', gateway.token(ALICE), { amount: '12.00', currency: 'EUR', description: 'watched' });
    assert.equal(created.status, 201);
    alicePayment = ((await created.json()) as { paymentId: string }).paymentId;
  });

  it('lists who is in a user room: the user, their role and how many sockets they have there', async () => {
    const tabs = [await connect(gateway.wsUrl, gateway.token(ALICE)), await connect(gateway.wsUrl, gateway.token(ALICE))];
    const admin = await connect(gateway.wsUrl, gateway.token(ADMIN));
    const reply = await admin.request({ type: 'presence', payload: { room: 'user:alice' } });
    assert.equal(reply.type, 'presence');
    assert.deepEqual(reply.payload, { room: 'user:alice', members: [{ userId: 'alice', role: 'CUSTOMER', connections: 2 }] });
    await Promise.all(tabs.map((tab) => tab.close()));
  });

  it('tells a watcher when a user comes online (first socket) and goes offline (last socket), nothing between', async () => {
    const admin = await connect(gateway.wsUrl, gateway.token(ADMIN));
    assert.deepEqual((await watch(admin, 'user:bob')).payload, { room: 'user:bob', members: [] });
    const first = await connect(gateway.wsUrl, gateway.token(BOB));
    assert.deepEqual(await changesSoFar(admin), [['presence:joined', { room: 'user:bob', userId: 'bob', role: 'CUSTOMER' }]]);
    const second = await connect(gateway.wsUrl, gateway.token(BOB));
    await first.close();
    assert.deepEqual(await changesSoFar(admin), [], 'a second tab and closing one of two change nothing');
    second.ws.terminate(); // gone without a close frame: the same
    assert.deepEqual((await admin.next('presence:left')).payload, { room: 'user:bob', userId: 'bob' });
  });

  it('tells the owner of a payment who else is looking at it (subscribe and unsubscribe of its room)', async () => {
    const room: PresenceRoom = `payment:${alicePayment}`;
    const alice = await connect(gateway.wsUrl, gateway.token(ALICE));
    assert.equal((await alice.request({ type: 'subscribe', payload: { room } })).type, 'subscribed');
    assert.deepEqual((await watch(alice, room)).payload, { room, members: [{ userId: 'alice', role: 'CUSTOMER', connections: 1 }] });
    const admin = await connect(gateway.wsUrl, gateway.token(ADMIN));
    await admin.request({ type: 'subscribe', payload: { room } });
    assert.deepEqual((await alice.next('presence:joined')).payload, { room, userId: 'admin_1', role: 'ADMIN' });
    await admin.request({ type: 'unsubscribe', payload: { room } });
    assert.deepEqual((await alice.next('presence:left')).payload, { room, userId: 'admin_1' });
  });

  it('does not make a resuming socket leave: a reconnect with ?since= and resume keeps the user present', async () => {
    const admin = await connect(gateway.wsUrl, gateway.token(ADMIN));
    const stays = await connect(gateway.wsUrl, gateway.token(CAROL));
    await watch(admin, 'user:carol');
    const since = await gateway.publish({ room: 'user:carol', type: 'notification:new', payload: { notificationId: 'n1', level: 'info', title: 't', message: 'm' } });
    const url = new URL(gateway.wsUrl);
    url.searchParams.set('since', since);
    const resuming = await connect(url.toString(), gateway.token(CAROL));
    assert.equal((await resuming.request({ type: 'resume', payload: { since } })).type, 'resumed');
    await resuming.close();
    assert.deepEqual(await changesSoFar(admin), []);
    await stays.close();
    assert.deepEqual((await admin.next('presence:left')).payload, { room: 'user:carol', userId: 'carol' });
  });

  it('keeps a user present through a hand-over: a socket closed with 4010 stays 2 s, long enough for the next one', async () => {
    const admin = await connect(gateway.wsUrl, gateway.token(ADMIN));
    await watch(admin, 'user:dave');
    const dave = { userId: 'dave', email: 'dave@demo.test', role: 'CUSTOMER' } as const;
    const owner = await connect(gateway.wsUrl, gateway.token(dave));
    assert.deepEqual(await changesSoFar(admin), [['presence:joined', { room: 'user:dave', userId: 'dave', role: 'CUSTOMER' }]]);
    const handedOverAt = Date.now();
    owner.ws.close(CloseCode.HandOver, 'handed over to another tab');
    await owner.closed;
    await eventually(() => gateway.stats().presenceHandOvers === 1, 'the gateway to release the socket');
    const next = await connect(gateway.wsUrl, gateway.token(dave));
    assert.deepEqual(await changesSoFar(admin), [], 'no leave, no join');
    // The next socket closes normally while the first one's grace lasts: dave leaves when that grace ends.
    await next.close();
    assert.deepEqual((await admin.next('presence:left')).payload, { room: 'user:dave', userId: 'dave' });
    assert.ok(Date.now() - handedOverAt >= HAND_OVER_GRACE_MS, `left ${Date.now() - handedOverAt} ms after the hand-over`);
    assert.equal(gateway.stats().presenceHandOvers, 0);
  });

  it('stops the changes after watch:false', async () => {
    const admin = await connect(gateway.wsUrl, gateway.token(ADMIN));
    await watch(admin, 'user:vendor_1');
    assert.equal((await admin.request({ type: 'presence', payload: { room: 'user:vendor_1', watch: false } })).type, 'presence');
    const vendor = await connect(gateway.wsUrl, gateway.token({ userId: 'vendor_1', email: 'vendor@demo.test', role: 'VENDOR' }));
    assert.deepEqual(await changesSoFar(admin), []);
    await vendor.close();
  });

  it('answers BAD_REQUEST for rooms without presence, FORBIDDEN (with the room) for rooms the socket may not join', async () => {
    const alice = await connect(gateway.wsUrl, gateway.token(ALICE));
    for (const room of ['broadcast', 'role:CUSTOMER']) {
      alice.send({ type: 'presence', payload: { room, watch: true } });
      const reply = await alice.next('error');
      assert.equal((reply.payload as { code: string }).code, 'BAD_REQUEST');
      assert.match((reply.payload as { message: string }).message, /^payload\.room: must be a user:<id> or payment:<id> room/);
    }
    for (const room of ['user:bob', 'payment:not_hers'] as const) {
      const reply = await alice.request({ type: 'presence', payload: { room, watch: true } });
      assert.deepEqual(reply.payload, { code: 'FORBIDDEN', room, message: `not allowed to see who is in ${room}` });
    }
    assert.equal((await alice.request({ type: 'presence', payload: { room: 'user:alice' } })).type, 'presence', 'her own room');
  });

  it('refuses a watch past WS_MAX_PRESENCE_WATCHES with RATE_LIMITED', async () => {
    const small = await startDemoGateway({ maxPresenceWatches: 2 });
    const admin = await connect(small.wsUrl, small.token(ADMIN));
    for (const room of ['user:a', 'user:b'] as const) assert.equal((await watch(admin, room)).type, 'presence');
    const reply = await watch(admin, 'user:c');
    assert.deepEqual(reply.payload, { code: 'RATE_LIMITED', room: 'user:c', message: 'watching too many rooms (at most 2); stop watching one first' });
    assert.equal(small.stats().presenceWatches, 2);
  });
});
