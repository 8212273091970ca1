/**
 * The heartbeat on fake sockets with mock timers: rounds of pings, the deadline per slice, and
 * that only a pong keeps a socket alive.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { fakeConnection } from '../../test/support/fakes.ts';
import type { Connection } from './connection.ts';
import { Heartbeat } from './heartbeat.ts';
import { Outbound } from './outbound.ts';

const OPTIONS = { intervalMs: 1000, timeoutMs: 300 };
const ids = (connections: readonly Connection[]) => connections.map((connection) => connection.id);

function harness(count: number) {
  const connections = new Set(Array.from({ length: count }, () => fakeConnection()));
  const dead: Connection[] = [];
  const heartbeat = new Heartbeat(connections, OPTIONS, new Outbound(1024 * 1024, () => undefined), (connection) => dead.push(connection));
  const pings = (connection: ReturnType<typeof fakeConnection>) => connection.socket.received().filter((frame) => frame === 'ping').length;
  /** What the hub's pong listener does. */
  const pong = (connection: Connection) => void (connection.alive = true);
  return { connections: [...connections], dead, heartbeat, pings, pong };
}

beforeEach(() => mock.timers.enable({ apis: ['setInterval', 'setTimeout'] }));
afterEach(() => mock.timers.reset());

describe('heartbeat', () => {
  it('pings every socket once per interval and keeps those that pong, round after round', () => {
    const { connections, dead, heartbeat, pings, pong } = harness(3);
    heartbeat.start();
    for (let round = 1; round <= 5; round++) {
      mock.timers.tick(OPTIONS.intervalMs);
      for (const connection of connections) {
        assert.equal(pings(connection), round);
        assert.equal(connection.alive, false, 'cleared when the ping goes out');
        pong(connection);
      }
    }
    mock.timers.tick(OPTIONS.timeoutMs);
    assert.deepEqual(dead, []);
    heartbeat.stop();
  });

  it('reports a socket that has not answered within the timeout, and only that one', () => {
    const { connections, dead, heartbeat, pong } = harness(3);
    const [silent, live, late] = [connections[0]!, connections[1]!, connections[2]!];
    heartbeat.start();
    mock.timers.tick(OPTIONS.intervalMs);
    pong(live);
    mock.timers.tick(OPTIONS.timeoutMs - 1);
    pong(late);
    assert.deepEqual(dead, []);
    mock.timers.tick(1);
    assert.deepEqual(ids(dead), ids([silent]));
    heartbeat.stop();
  });

  it('counts only a pong: a socket that keeps sending messages but never pongs is reported', () => {
    const { connections, dead, heartbeat } = harness(1);
    heartbeat.start();
    mock.timers.tick(OPTIONS.intervalMs);
    mock.timers.tick(OPTIONS.timeoutMs);
    // (message-handler.unit.test.ts checks that a message leaves `alive` as it is.)
    assert.deepEqual(ids(dead), ids(connections));
    heartbeat.stop();
  });

  it('neither pings nor reports sockets that are closing or released', () => {
    const { connections, dead, heartbeat, pings } = harness(2);
    const [closing, released] = [connections[0]!, connections[1]!];
    closing.socket.close(1000, 'bye');
    heartbeat.start();
    mock.timers.tick(OPTIONS.intervalMs);
    assert.equal(pings(closing), 0);
    assert.equal(pings(released), 1);
    released.released = true;
    mock.timers.tick(OPTIONS.timeoutMs);
    assert.deepEqual(dead, []);
    heartbeat.stop();
  });

  it('spreads a large round over slices, each with its own deadline, all within half the interval', () => {
    const { connections, dead, heartbeat, pings } = harness(600);
    const spacing = Math.floor(OPTIONS.intervalMs / 2 / 3); // 3 slices of at most 256 over half the interval
    const pinged = () => connections.filter((connection) => pings(connection) === 1).length;
    heartbeat.start();
    mock.timers.tick(OPTIONS.intervalMs);
    assert.equal(pinged(), 256, 'the first slice');
    mock.timers.tick(spacing);
    assert.equal(pinged(), 512, 'the second slice');
    assert.equal(dead.length, 0);
    mock.timers.tick(OPTIONS.timeoutMs - spacing);
    assert.equal(dead.length, 256, "the first slice's deadline: none of it answered");
    mock.timers.tick(2 * spacing - OPTIONS.timeoutMs);
    assert.equal(pinged(), 600, 'the last slice, within half the interval');
    mock.timers.tick(OPTIONS.timeoutMs);
    assert.equal(dead.length, 600);
    heartbeat.stop();
  });

  it('does nothing after stop, not even the deadlines of the round in flight', () => {
    const { connections, dead, heartbeat, pings } = harness(2);
    heartbeat.start();
    mock.timers.tick(OPTIONS.intervalMs);
    heartbeat.stop();
    mock.timers.tick(10 * OPTIONS.intervalMs);
    assert.deepEqual(dead, []);
    assert.deepEqual(connections.map(pings), [1, 1]);
  });
});
