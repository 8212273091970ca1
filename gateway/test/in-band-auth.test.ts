/**
 * In-band token refresh against the real gateway on loopback: every answer of the `auth` contract,
 * on real sockets. The gateway's clock is moved past a token's expiry (the expiry timer itself
 * stays real): a socket whose deadline the auth moved stays open while one that kept its old
 * deadline closes with 4001 in the same sweep, which is what each test awaits.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import { CloseCode, type ServerMessage } from '@payments-system/protocol';
import type { TokenSubject } from '../src/auth/tokens.ts';
import { connect, type TestClient } from './support/client.ts';
import { ADMIN, ALICE, BOB, publish, startTestGateway } from './support/gateway.ts';

async function startWithClock(revoked = new Set<string>()) {
  const clock = { now: Date.now() };
  const gateway = await startTestGateway({ now: () => clock.now, extension: { isSessionRevoked: async (sessionId) => revoked.has(sessionId) } });
  /** A token issued now by the gateway's clock (its `gateway.token` would take the real one). */
  const sign = (subject: TokenSubject, ttlSeconds: number) => {
    const iat = Math.floor(clock.now / 1000);
    const { sessionId, ...claims } = subject;
    return jwt.sign({ ...claims, ...(sessionId && { sid: sessionId }), iat, exp: iat + ttlSeconds }, gateway.secret);
  };
  return { gateway, revoked, sign, advance: (seconds: number) => void (clock.now += seconds * 1000) };
}

const auth = (client: TestClient, token: string) => client.request({ type: 'auth', payload: { token } });

function errorOf(reply: ServerMessage): { code: string; message: string } {
  assert.equal(reply.type, 'error', `expected an error, got ${reply.type}`);
  return reply.payload as { code: string; message: string };
}

const ALICE_S1: TokenSubject = { ...ALICE, sessionId: 'sess-1' };

describe('in-band auth: accepted', () => {
  it('answers authenticated {expiresAt} with the correlationId; the socket outlives its first token, rooms and delivery untouched', { timeout: 15_000 }, async () => {
    const { gateway, advance } = await startWithClock();
    const renewed = await connect(gateway.wsUrl, gateway.token(ADMIN, 60));
    const witness = await connect(gateway.wsUrl, gateway.token(BOB, 60)); // keeps the old deadline
    assert.equal((await renewed.request({ type: 'subscribe', payload: { room: 'payment:pay_inband' } })).type, 'subscribed');
    const fresh = gateway.token(ADMIN, 600);
    renewed.send({ type: 'auth', payload: { token: fresh }, correlationId: 'renew-1' });
    const reply = await renewed.next('authenticated');
    assert.equal(reply.correlationId, 'renew-1');
    assert.equal(reply.payload.expiresAt, new Date((jwt.decode(fresh) as { exp: number }).exp * 1000).toISOString());

    advance(120);
    assert.equal((await witness.closed).code, CloseCode.TokenExpired, 'the sweep ran');
    assert.equal((await renewed.request({ type: 'ping' })).type, 'pong', 'the renewed socket is open');
    await publish(gateway, { room: 'payment:pay_inband', type: 'payment:updated', payload: { paymentId: 'pay_inband', status: 'completed', amount: '1.00', currency: 'EUR' } });
    assert.equal((await renewed.next('payment:updated')).room, 'payment:pay_inband', 'still in its subscribed room');

    advance(600);
    assert.equal((await renewed.closed).code, CloseCode.TokenExpired, '4001 at the new exp');
  });

  it('keeps a socket open across many renewals of short tokens, with no other message than the answers', { timeout: 15_000 }, async () => {
    const { gateway, advance, sign } = await startWithClock();
    const client = await connect(gateway.wsUrl, sign(ALICE_S1, 60));
    for (let round = 0; round < 5; round++) {
      const witness = await connect(gateway.wsUrl, sign(BOB, 55));
      assert.equal((await auth(client, sign(ALICE_S1, 90))).type, 'authenticated');
      advance(60);
      assert.equal((await witness.closed).code, CloseCode.TokenExpired);
    }
    assert.equal((await client.request({ type: 'ping' })).type, 'pong');
    assert.deepEqual(client.unread(), []);
  });
});

describe('in-band auth: refused, the socket keeps its token and deadline', () => {
  const cases: Array<[string, (g: Awaited<ReturnType<typeof startWithClock>>) => string, 'UNAUTHORIZED' | 'FORBIDDEN', RegExp]> = [
    ['a forged token', () => jwt.sign({ ...ALICE_S1, sid: 'sess-1' }, 'x'.repeat(40), { expiresIn: 600 }), 'UNAUTHORIZED', /^token invalid signature$/],
    ['an expired token', ({ gateway }) => jwt.sign({ userId: 'alice', email: ALICE.email, role: 'CUSTOMER', sid: 'sess-1', exp: Math.floor(Date.now() / 1000) - 10 }, gateway.secret), 'UNAUTHORIZED', /^token expired$/],
    ['a token with alg none', () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...ALICE, sid: 'sess-1', exp: 9_999_999_999 })}.`, 'UNAUTHORIZED', /^token unsupported algorithm$/],
    ['a revoked token', ({ gateway, revoked }) => (revoked.add('sess-revoked'), gateway.token({ ...ALICE, sessionId: 'sess-revoked' }, 600)), 'UNAUTHORIZED', /^token revoked$/],
    ['a token of another user', ({ gateway }) => gateway.token({ ...BOB, sessionId: 'sess-1' }, 600), 'FORBIDDEN', /another user/],
    ['a token of another role', ({ gateway }) => gateway.token({ ...ALICE_S1, role: 'ADMIN' }, 600), 'FORBIDDEN', /another role/],
    ['a token of another login session', ({ gateway }) => gateway.token({ ...ALICE, sessionId: 'sess-2' }, 600), 'FORBIDDEN', /another login session/],
  ];
  for (const [what, token, code, message] of cases) {
    it(`answers ${code} to ${what}, and 4001 still comes at the old exp`, { timeout: 15_000 }, async () => {
      const started = await startWithClock();
      const { gateway, advance } = started;
      const client = await connect(gateway.wsUrl, gateway.token(ALICE_S1, 60));
      client.send({ type: 'auth', payload: { token: token(started) }, correlationId: 'refused' });
      const reply = await client.next('error');
      assert.equal(reply.correlationId, 'refused');
      assert.equal(errorOf(reply).code, code);
      assert.match(errorOf(reply).message, message);
      assert.equal((await client.request({ type: 'ping' })).type, 'pong', 'the socket stays open');
      advance(61);
      assert.equal((await client.closed).code, CloseCode.TokenExpired);
    });
  }

  it('answers BAD_REQUEST to an auth without a token or with one over 8,192 characters', async () => {
    const { gateway } = await startWithClock();
    const client = await connect(gateway.wsUrl, gateway.token(ALICE, 60));
    for (const payload of [{}, { token: 'x'.repeat(8193) }]) {
      client.send({ type: 'auth', payload, correlationId: 'bad' }); // a frame that does not parse: answered without it
      const { code, message } = errorOf(await client.next('error'));
      assert.equal(code, 'BAD_REQUEST');
      assert.match(message, /^payload\.token: /);
    }
  });

  it('counts auth messages against the socket’s message rate (1008 past the burst)', async () => {
    const gateway = await startTestGateway({ rateLimitPerSecond: 5, rateLimitBurst: 5 });
    const client = await connect(gateway.wsUrl, gateway.token(ALICE, 60));
    for (let i = 0; i < 6; i++) client.send({ type: 'auth', payload: { token: gateway.token(ALICE, 60) } });
    assert.equal((await client.closed).code, CloseCode.PolicyViolation);
  });
});

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
