/** POST /api/events: admins only, and only well-formed events. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import { ADMIN, ALICE, body, publish, startTestGateway, type TestGateway } from '../support/gateway.ts';

const event = { room: 'broadcast', type: 'system:broadcast', payload: { message: 'maintenance at 22:00', level: 'warning' } };

describe('POST /api/events authorization and validation', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway({ maxPayloadBytes: 4096 });
  });

  it('accepts an admin with 202 and the event id', async () => {
    const response = await publish(gateway, event);
    assert.equal(response.status, 202);
    assert.match((await body(response)).id ?? '', /^\S+$/);
  });

  it('refuses a request without a token with 401 and WWW-Authenticate', async () => {
    const response = await fetch(`${gateway.url}/api/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
    });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), 'Bearer');
    assert.deepEqual(await body(response), { error: { code: 'UNAUTHORIZED', message: 'token missing' } });
  });

  it('refuses a forged token with 401', async () => {
    const forged = jwt.sign({ ...ADMIN }, 'f'.repeat(40), { algorithm: 'HS256', expiresIn: 60 });
    const response = await publish(gateway, event, forged);
    assert.equal(response.status, 401);
  });

  it('refuses an expired admin token with 401', async () => {
    const expired = jwt.sign({ ...ADMIN, exp: Math.floor(Date.now() / 1000) - 5 }, gateway.secret, { algorithm: 'HS256' });
    const response = await publish(gateway, event, expired);
    assert.equal(response.status, 401);
    assert.equal((await body(response)).error?.message, 'token expired');
  });

  it('refuses a customer with 403', async () => {
    const response = await publish(gateway, event, gateway.token(ALICE));
    assert.equal(response.status, 403);
    assert.equal((await body(response)).error?.code, 'FORBIDDEN');
  });

  const badBodies: Array<[string, unknown, RegExp]> = [
    ['an unknown type', { ...event, type: 'payment:deleted' }, /type/],
    ['a reply type', { ...event, type: 'pong', payload: {} }, /type/],
    ['an invalid room', { ...event, room: 'everyone' }, /room/],
    ['a payload of the wrong shape', { ...event, payload: { text: 'hi' } }, /payload\.message/],
    ['a float amount', { room: 'user:alice', type: 'payment:updated', payload: { paymentId: 'p1', status: 'completed', amount: 10.5, currency: 'EUR' } }, /payload\.amount/],
    ['an array', [event], /JSON object/],
  ];
  for (const [what, requestBody, message] of badBodies) {
    it(`answers ${what} with 400 and a message naming the field`, async () => {
      const response = await publish(gateway, requestBody);
      assert.equal(response.status, 400);
      const { error } = await body(response);
      assert.equal(error?.code, 'BAD_REQUEST');
      assert.match(error?.message ?? '', message);
    });
  }

  it('answers malformed JSON with 400', async () => {
    const response = await fetch(`${gateway.url}/api/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gateway.token(ADMIN)}` },
      body: '{"room":',
    });
    assert.equal(response.status, 400);
    assert.equal((await body(response)).error?.code, 'BAD_REQUEST');
  });

  it('answers a body over the limit with 413', async () => {
    const response = await publish(gateway, { ...event, payload: { message: 'x'.repeat(10_000), level: 'info' } });
    assert.equal(response.status, 413);
    assert.equal((await body(response)).error?.code, 'PAYLOAD_TOO_LARGE');
  });

  it('answers a non-JSON content type with 400', async () => {
    const response = await fetch(`${gateway.url}/api/events`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', authorization: `Bearer ${gateway.token(ADMIN)}` },
      body: 'hello',
    });
    assert.equal(response.status, 400);
  });

  it('answers an unknown route with a JSON 404', async () => {
    const response = await fetch(`${gateway.url}/api/nothing`);
    assert.equal(response.status, 404);
    assert.equal((await body(response)).error?.code, 'NOT_FOUND');
  });
});

describe('POST /api/events with Idempotency-Key', () => {
  it('returns the first id for a repeated key, and publishes once', async () => {
    const gateway = await startTestGateway();
    const send = (key: string) =>
      fetch(`${gateway.url}/api/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${gateway.token(ADMIN)}`, 'idempotency-key': key },
        body: JSON.stringify(event),
      });
    const first = await body(await send('order-42:attempt'));
    const retry = await body(await send('order-42:attempt'));
    const other = await body(await send('order-43'));
    assert.equal(retry.id, first.id);
    assert.notEqual(other.id, first.id);
  });

  it('refuses a malformed key with 400', async () => {
    const gateway = await startTestGateway();
    const response = await fetch(`${gateway.url}/api/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gateway.token(ADMIN)}`, 'idempotency-key': 'has spaces' },
      body: JSON.stringify(event),
    });
    assert.equal(response.status, 400);
    assert.match((await body(response)).error?.message ?? '', /Idempotency-Key/);
  });
});
