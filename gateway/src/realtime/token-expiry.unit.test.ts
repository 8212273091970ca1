/**
 * Token expiry with mock timers as the clock: the hub closes a socket with 4001 in the second its
 * token's `exp` names, and not before; buckets hold each connection once and forget it on release.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { CloseCode, type Role } from '@payments-system/protocol';
import { counterValue, FakeSocket, fakeConnection, quietServices } from '../../test/support/fakes.ts';
import { InMemoryBus } from '../bus/in-memory-bus.ts';
import { InMemoryPresenceStore } from '../presence/in-memory-presence-store.ts';
import { defaultConfig } from '../config.ts';
import type { Connection } from './connection.ts';
import { RealtimeHub } from './hub.ts';
import { TokenExpiry } from './token-expiry.ts';

const START = 1_765_447_200_000; // a whole second
const startSecond = START / 1000;

beforeEach(() => mock.timers.enable({ apis: ['Date', 'setInterval', 'setTimeout'], now: START }));
afterEach(() => mock.timers.reset());

const unused = (): never => {
  throw new Error('not used by these tests');
};

function hubWithClock() {
  const { metrics, logger } = quietServices();
  // A heartbeat far away: these tests look at expiry only.
  const config = defaultConfig({ jwtSecret: 'x'.repeat(32), heartbeatIntervalMs: 3_600_000, heartbeatTimeoutMs: 60_000 });
  const parts = { roomAccess: {}, bus: new InMemoryBus(), verifier: { authenticate: unused }, presence: new InMemoryPresenceStore() };
  const hub = new RealtimeHub(config, logger, metrics, parts, () => Date.now());
  const accept = (userId: string, exp: number, role: Role = 'CUSTOMER') => {
    const socket = new FakeSocket();
    hub.accept(socket, { userId, email: `${userId}@demo.test`, role, exp });
    return socket;
  };
  return { hub, metrics, accept };
}

describe('token expiry (through the hub)', () => {
  it('closes a socket with 4001 "token expired" in the second of its exp, not before', async () => {
    const { hub, metrics, accept } = hubWithClock();
    hub.start();
    const socket = accept('alice', startSecond + 5);
    mock.timers.tick(4000);
    assert.equal(socket.closedWith, undefined, 'valid until the end of second exp - 1');
    mock.timers.tick(999);
    assert.equal(socket.closedWith, undefined);
    mock.timers.tick(1);
    assert.deepEqual(socket.closedWith, { code: CloseCode.TokenExpired, reason: 'token expired' });
    assert.equal(await counterValue(metrics, 'gateway_token_expiry_closes_total'), 1);
    hub.stop();
  });

  it('leaves sockets with later expiries open, and expires each in its own second', () => {
    const { hub, accept } = hubWithClock();
    hub.start();
    const soon = accept('alice', startSecond + 1);
    const sameSecond = accept('bob', startSecond + 1);
    const later = accept('carol', startSecond + 600);
    mock.timers.tick(1000);
    assert.equal(soon.closeCode(), CloseCode.TokenExpired);
    assert.equal(sameSecond.closeCode(), CloseCode.TokenExpired);
    assert.equal(later.closedWith, undefined);
    mock.timers.tick(599_000);
    assert.equal(later.closeCode(), CloseCode.TokenExpired);
    hub.stop();
  });

  it('expires a token accepted at the very edge of its life on the next tick of the event loop', async () => {
    const { hub, accept } = hubWithClock();
    hub.start();
    mock.timers.tick(2000);
    const edge = accept('alice', startSecond + 1);
    await Promise.resolve();
    assert.equal(edge.closeCode(), CloseCode.TokenExpired);
    hub.stop();
  });

  it('forgets a released connection: its bucket goes, and nothing fires for it', () => {
    const { hub, accept } = hubWithClock();
    hub.start();
    const socket = accept('alice', startSecond + 3);
    assert.equal(hub.stats().expiryTracked, 1);
    socket.emit('close', 1000);
    assert.equal(hub.stats().expiryTracked, 0);
    mock.timers.tick(5000);
    assert.equal(socket.closedWith, undefined);
    hub.stop();
  });
});

describe('token expiry buckets', () => {
  it('keeps one bucket per second, however many connections share it, and catches up on seconds it missed', () => {
    const expired: Connection[] = [];
    const expiry = new TokenExpiry((connection) => expired.push(connection), () => Date.now());
    expiry.start();
    const connections = [1, 1, 2, 3, 3, 3].map((offset) => fakeConnection({ exp: startSecond + offset }));
    for (const connection of connections) expiry.track(connection);
    assert.equal(expiry.size, 6);
    expiry.untrack(connections[0]!);
    expiry.untrack(connections[0]!);
    assert.equal(expiry.size, 5, 'untrack is idempotent');
    mock.timers.tick(1000);
    assert.deepEqual(expired, [connections[1]]);
    // The process was busy for two seconds: the next tick expires both seconds' buckets.
    mock.timers.setTime(START + 3500);
    mock.timers.tick(1000);
    assert.deepEqual(expired, connections.slice(1));
    assert.equal(expiry.size, 0);
    expiry.stop();
  });
});
