import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closeAdvice, CloseCode } from './close-codes.js';
import { isPresenceRoom, isRoom, parseRoom, paymentRoom, roleRoom, userRoom } from './rooms.js';

describe('rooms', () => {
  it('builds and parses each kind of room', () => {
    assert.deepEqual(parseRoom(userRoom('u_1')), { kind: 'user', userId: 'u_1' });
    assert.deepEqual(parseRoom(roleRoom('VENDOR')), { kind: 'role', role: 'VENDOR' });
    assert.deepEqual(parseRoom(paymentRoom('pay_9')), { kind: 'payment', paymentId: 'pay_9' });
    assert.deepEqual(parseRoom('broadcast'), { kind: 'broadcast' });
  });

  for (const bad of ['', 'user:', 'user:a b', 'role:admin', 'team:x', 'broadcast:x', `user:${'a'.repeat(129)}`]) {
    it(`rejects ${JSON.stringify(bad.slice(0, 20))}`, () => {
      assert.equal(parseRoom(bad), null);
      assert.equal(isRoom(bad), false);
    });
  }
});

describe('presence rooms', () => {
  it('are the user and payment rooms', () => {
    assert.equal(isPresenceRoom(userRoom('u_1')), true);
    assert.equal(isPresenceRoom(paymentRoom('pay_9')), true);
    for (const room of ['broadcast', roleRoom('ADMIN'), 'user:', 'team:x', 42]) assert.equal(isPresenceRoom(room), false, String(room));
  });
});

describe('closeAdvice', () => {
  it('tells a client what to do after each close', () => {
    assert.equal(closeAdvice(CloseCode.TokenExpired), 'refresh-token');
    assert.equal(closeAdvice(CloseCode.GoingAway), 'reconnect');
    assert.equal(closeAdvice(CloseCode.SessionRevoked), 'stop');
    assert.equal(closeAdvice(1006), 'reconnect');
  });
});
