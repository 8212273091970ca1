import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RefreshRefused, SessionStore } from './session-store.ts';

const refusal = (reason: string) => (error: unknown) => error instanceof RefreshRefused && error.reason === reason;

describe('SessionStore', () => {
  it('rotates refresh tokens: each is single use', () => {
    const store = new SessionStore(60);
    const first = store.start('alice');
    const second = store.rotate(first.refreshToken);
    assert.equal(second.session.sessionId, first.session.sessionId);
    assert.notEqual(second.refreshToken, first.refreshToken);
    assert.ok(store.rotate(second.refreshToken).refreshToken);
    store.close();
  });

  it('revokes the whole family when a used token comes back', () => {
    const store = new SessionStore(60);
    const first = store.start('alice');
    const second = store.rotate(first.refreshToken);
    assert.throws(() => store.rotate(first.refreshToken), refusal('reused'));
    assert.throws(() => store.rotate(second.refreshToken), refusal('revoked'), 'the thief and the owner are both out');
    assert.equal(store.isRevoked(first.session.sessionId), true);
    store.close();
  });

  it('refuses unknown and expired tokens', () => {
    let now = 0;
    const store = new SessionStore(60, () => now);
    assert.throws(() => store.rotate('never-issued-token-value'), refusal('unknown'));
    const issued = store.start('bob');
    now = 61_000;
    assert.throws(() => store.rotate(issued.refreshToken), refusal('expired'));
    store.close();
  });

  it('revokes every session of one user and no other', () => {
    const store = new SessionStore(60);
    const laptop = store.start('alice');
    const phone = store.start('alice');
    const bob = store.start('bob');
    assert.deepEqual(store.revokeUser('alice').sort(), [laptop.session.sessionId, phone.session.sessionId].sort());
    assert.throws(() => store.rotate(phone.refreshToken), refusal('revoked'));
    assert.ok(store.rotate(bob.refreshToken));
    store.close();
  });
});
