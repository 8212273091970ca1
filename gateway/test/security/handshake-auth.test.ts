/**
 * The handshake refuses every bad credential with an HTTP status, never a 101.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { before, describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import { connect, refusedHandshake } from '../support/client.ts';
import { ALICE, startTestGateway, type TestGateway } from '../support/gateway.ts';

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

describe('WebSocket handshake authentication', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway({ allowedOrigins: ['https://app.example.com'] });
  });

  it('accepts a valid token in the bearer subprotocol and answers with "bearer", never the token', async () => {
    const client = await connect(gateway.wsUrl, gateway.token(ALICE));
    assert.equal(client.ws.protocol, 'bearer');
    assert.equal((await client.request({ type: 'ping' })).type, 'pong');
  });

  it('accepts a valid token in ?token=', async () => {
    const client = await connect(gateway.wsUrl, gateway.token(ALICE), { via: 'query' });
    assert.equal((await client.request({ type: 'ping' })).type, 'pong');
  });

  const refusals: Array<[string, () => string | undefined]> = [
    ['a missing token', () => undefined],
    ['a malformed token', () => 'not-a-jwt'],
    ['a token forged with another secret', () => jwt.sign({ ...ALICE }, 'x'.repeat(40), { algorithm: 'HS256', expiresIn: 60 })],
    ['an expired token', () => jwt.sign({ ...ALICE, exp: Math.floor(Date.now() / 1000) - 10 }, gateway.secret, { algorithm: 'HS256' })],
    ['an alg:none token', () => `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ ...ALICE, exp: inAnHour() })}.`],
    [
      'a token signed with HS512 (algorithm not pinned)',
      () => jwt.sign({ ...ALICE, exp: inAnHour() }, gateway.secret, { algorithm: 'HS512' }),
    ],
    ['a token without the required claims', () => jwt.sign({ sub: 'alice', exp: inAnHour() }, gateway.secret, { algorithm: 'HS256' })],
    ['a token with an unknown role', () => jwt.sign({ ...ALICE, role: 'ROOT', exp: inAnHour() }, gateway.secret, { algorithm: 'HS256' })],
    ['a token that never expires', () => jwt.sign({ ...ALICE }, gateway.secret, { algorithm: 'HS256', noTimestamp: true })],
    [
      'a token whose payload was edited after signing',
      () => {
        const [header, , signature] = gateway.token(ALICE).split('.');
        return `${header}.${base64url({ ...ALICE, role: 'ADMIN', exp: inAnHour() })}.${signature}`;
      },
    ],
    [
      'a token signed with the secret as an HMAC of another header (alg confusion)',
      () => {
        const header = base64url({ alg: 'HS256', typ: 'JWT', kid: '../../etc/passwd' });
        const payload = base64url({ ...ALICE, exp: inAnHour() });
        const signature = createHmac('sha256', 'wrong').update(`${header}.${payload}`).digest('base64url');
        return `${header}.${payload}.${signature}`;
      },
    ],
  ];

  for (const [what, token] of refusals) {
    for (const via of ['subprotocol', 'query'] as const) {
      it(`refuses ${what} (${via}) with HTTP 401 and an UNAUTHORIZED body`, async () => {
        const connectionsBefore = gateway.stats().connections;
        const refused = await refusedHandshake(gateway.wsUrl, token(), { via });
        assert.equal(refused.status, 401);
        assert.equal(JSON.parse(refused.body).error.code, 'UNAUTHORIZED');
        assert.equal(gateway.stats().connections, connectionsBefore);
      });
    }
  }

  it('refuses an Origin that is not allowed with HTTP 403', async () => {
    const refused = await refusedHandshake(gateway.wsUrl, gateway.token(ALICE), { origin: 'https://evil.example.com' });
    assert.equal(refused.status, 403);
    assert.equal(JSON.parse(refused.body).error.code, 'FORBIDDEN');
  });

  it('accepts an allowed Origin', async () => {
    const client = await connect(gateway.wsUrl, gateway.token(ALICE), { origin: 'https://app.example.com' });
    assert.equal((await client.request({ type: 'ping' })).type, 'pong');
  });

  it('answers HTTP 404 for an upgrade on another path', async () => {
    const refused = await refusedHandshake(gateway.wsUrl, gateway.token(ALICE), { path: '/socket' });
    assert.equal(refused.status, 404);
    assert.equal(JSON.parse(refused.body).error.code, 'NOT_FOUND');
  });
});
