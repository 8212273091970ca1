/**
 * In-band `auth` through a real hub on fake sockets, with mock timers as the clock and the real
 * verifier: every answer of the contract, and what each does to the socket's 4001 deadline.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { CloseCode, type ServerMessage } from '@payments-system/protocol';
import { counterValue, tokenAt, unitHub, type FakeSocket } from '../../../test/support/fakes.ts';
import { TokenVerifier, type VerifierOptions } from '../../auth/tokens.ts';

const SECRET = 'unit-secret-0123456789abcdef0123456789';
const START = 1_765_447_200_000; // a whole second
const NOW_S = START / 1000;

beforeEach(() => mock.timers.enable({ apis: ['Date', 'setInterval', 'setTimeout'], now: START }));
afterEach(() => mock.timers.reset());

const ALICE = { userId: 'alice', role: 'CUSTOMER', sessionId: 's1' } as const;

function setup(verifierOptions: VerifierOptions = {}) {
  const verifier = new TokenVerifier(SECRET, { nowSeconds: () => Math.floor(Date.now() / 1000), ...verifierOptions });
  const unit = unitHub({ verifier });
  unit.hub.start();
  /** Alice's socket, accepted with a token that expires in `ttl` seconds. */
  const aliceSocket = (ttl = 10) => unit.accept({ userId: 'alice', role: 'CUSTOMER', sessionId: 's1', exp: NOW_S + ttl });
  const auth = (socket: FakeSocket, token: string, correlationId = 'a1') => unit.send(socket, { type: 'auth', payload: { token }, correlationId });
  return { ...unit, aliceSocket, auth };
}

function last(socket: FakeSocket): ServerMessage {
  const message = socket.messages().at(-1);
  assert.ok(message, 'a reply was written');
  return message;
}

describe('auth: accepted', () => {
  it('answers authenticated {expiresAt} with the correlationId and moves the 4001 deadline to the new exp', async () => {
    const { hub, metrics, aliceSocket, auth } = setup();
    const socket = aliceSocket(10);
    mock.timers.tick(8000);
    auth(socket, tokenAt(SECRET, ALICE, { ttlSeconds: 60 }), 'renew-1');
    const answer = last(socket);
    assert.equal(answer.type, 'authenticated');
    assert.deepEqual(answer.payload, { expiresAt: new Date((NOW_S + 8 + 60) * 1000).toISOString() });
    assert.equal(answer.correlationId, 'renew-1');
    assert.equal(hub.stats().expiryTracked, 1, 'moved, not added');
    mock.timers.tick(10_000);
    assert.equal(socket.closedWith, undefined, 'open past the old exp');
    mock.timers.tick(49_999);
    assert.equal(socket.closedWith, undefined);
    mock.timers.tick(1);
    assert.equal(socket.closeCode(), CloseCode.TokenExpired, '4001 at the new exp');
    assert.equal(await counterValue(metrics, 'gateway_token_renewals_total', { outcome: 'accepted' }), 1);
    hub.stop();
  });

  it('changes nothing else: the rooms, and the renewed claims are the socket’s from then on', () => {
    const { hub, send, aliceSocket, auth } = setup();
    const socket = aliceSocket();
    send(socket, { type: 'subscribe', payload: { room: 'broadcast' } });
    const rooms = [...socket.connection.rooms];
    auth(socket, tokenAt(SECRET, ALICE, { ttlSeconds: 120 }));
    assert.deepEqual([...socket.connection.rooms], rooms);
    assert.equal(socket.connection.claims.exp, NOW_S + 120);
    assert.equal(socket.connection.expiresAtSecond, NOW_S + 120);
    hub.stop();
  });

  it('replaces a token in the last second of its life, until the 4001 fires', () => {
    const { hub, aliceSocket, auth } = setup();
    const socket = aliceSocket(2);
    mock.timers.tick(1999);
    auth(socket, tokenAt(SECRET, ALICE, { ttlSeconds: 30 }));
    assert.equal(last(socket).type, 'authenticated');
    mock.timers.tick(5000);
    assert.equal(socket.closedWith, undefined);
    hub.stop();
  });
});

describe('auth: refused, the socket keeps its token and deadline', () => {
  const refusals: Array<[string, () => string, 'UNAUTHORIZED' | 'FORBIDDEN', RegExp]> = [
    ['a forged token', () => tokenAt('another-secret-0123456789abcdef01234', ALICE), 'UNAUTHORIZED', /^token invalid signature$/],
    ['an expired token', () => tokenAt(SECRET, ALICE, { iat: NOW_S - 120, ttlSeconds: 60 }), 'UNAUTHORIZED', /^token expired$/],
    ['a token living too long', () => tokenAt(SECRET, ALICE, { ttlSeconds: 86_401 }), 'UNAUTHORIZED', /^token lifetime too long$/],
    ['a token issued in the future', () => tokenAt(SECRET, ALICE, { iat: NOW_S + 3600 }), 'UNAUTHORIZED', /^token issued in future$/],
    ['something that is not a token', () => 'not.a.jwt', 'UNAUTHORIZED', /^token malformed$/],
    ['a token of another user', () => tokenAt(SECRET, { ...ALICE, userId: 'bob' }), 'FORBIDDEN', /another user/],
    ['a token of another role', () => tokenAt(SECRET, { ...ALICE, role: 'ADMIN' }), 'FORBIDDEN', /another role/],
    ['a token of another login session', () => tokenAt(SECRET, { ...ALICE, sessionId: 's2' }), 'FORBIDDEN', /another login session/],
    ['a token of no login session', () => tokenAt(SECRET, { userId: 'alice', role: 'CUSTOMER' }), 'FORBIDDEN', /another login session/],
  ];
  for (const [what, token, code, message] of refusals) {
    it(`answers ${code} to ${what}`, async () => {
      const { hub, metrics, aliceSocket, auth } = setup();
      const socket = aliceSocket(5);
      auth(socket, token(), 'bad');
      const answer = last(socket);
      assert.equal(answer.type, 'error');
      assert.equal(answer.correlationId, 'bad');
      assert.equal((answer.payload as { code: string }).code, code);
      assert.match((answer.payload as { message: string }).message, message);
      assert.equal(socket.connection.expiresAtSecond, NOW_S + 5);
      mock.timers.tick(5000);
      assert.equal(socket.closeCode(), CloseCode.TokenExpired, 'still closed at the old exp');
      const outcome = code === 'FORBIDDEN' ? 'forbidden' : 'unauthorized';
      assert.equal(await counterValue(metrics, 'gateway_token_renewals_total', { outcome }), 1);
      hub.stop();
    });
  }

  it('answers UNAUTHORIZED "token revoked" when the session ended (a revocation check that answers later)', async () => {
    const { hub, aliceSocket, auth } = setup({ isSessionRevoked: async (sessionId) => sessionId === 's1' });
    const socket = aliceSocket(5);
    auth(socket, tokenAt(SECRET, ALICE, { ttlSeconds: 60 }));
    assert.equal(socket.messages().length, 0, 'answered once the check answers');
    await flush();
    assert.deepEqual(last(socket).payload, { code: 'UNAUTHORIZED', message: 'token revoked' });
    assert.equal(socket.connection.expiresAtSecond, NOW_S + 5);
    hub.stop();
  });

  it('answers SERVICE_UNAVAILABLE when the revocation check fails, and the socket serves on', async () => {
    const { hub, aliceSocket, auth, send } = setup({ isSessionRevoked: () => Promise.reject(new Error('redis down')) });
    const socket = aliceSocket(5);
    auth(socket, tokenAt(SECRET, ALICE, { ttlSeconds: 60 }));
    await flush();
    assert.deepEqual(last(socket).payload, { code: 'SERVICE_UNAVAILABLE', message: 'cannot check credentials now; retry' });
    send(socket, { type: 'ping', correlationId: 'p' });
    assert.equal(last(socket).type, 'pong');
    assert.equal(socket.closedWith, undefined);
    hub.stop();
  });

  it('answers CONFLICT to a second auth while the first is being checked, then takes the first', async () => {
    const { hub, aliceSocket, auth } = setup({ isSessionRevoked: async () => false });
    const socket = aliceSocket(5);
    auth(socket, tokenAt(SECRET, ALICE, { ttlSeconds: 60 }), 'first');
    auth(socket, tokenAt(SECRET, ALICE, { ttlSeconds: 90 }), 'second');
    assert.deepEqual(last(socket).payload, { code: 'CONFLICT', message: 'an auth is already being checked; wait for its answer' });
    assert.equal(last(socket).correlationId, 'second');
    await flush();
    assert.equal(last(socket).type, 'authenticated');
    assert.equal(last(socket).correlationId, 'first');
    assert.equal(socket.connection.expiresAtSecond, NOW_S + 60);
    hub.stop();
  });

  it('does nothing when the check answers after the 4001 fired: no reply, nothing tracked after the close', async () => {
    let answer!: (revoked: boolean) => void;
    const { hub, aliceSocket, auth, close } = setup({ isSessionRevoked: () => new Promise((resolve) => (answer = resolve)) });
    const socket = aliceSocket(1);
    auth(socket, tokenAt(SECRET, ALICE, { ttlSeconds: 60 }));
    mock.timers.tick(1000);
    assert.equal(socket.closeCode(), CloseCode.TokenExpired);
    answer(false);
    await flush();
    assert.deepEqual(socket.messages(), []);
    close(socket, CloseCode.TokenExpired);
    assert.equal(hub.stats().expiryTracked, 0);
    hub.stop();
  });
});

/** Lets settled promises run their callbacks. */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
