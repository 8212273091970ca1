/**
 * Every frame a socket is sent keeps within WS_MAX_BUFFERED_BYTES: replays, replies and the live
 * events held during a replay, not only broadcasts. A client that stops reading and keeps asking
 * (resumes, pings) never holds more than the bound plus one frame in the gateway, is closed with
 * 4008 when it asks for more, and cannot stay alive by writing: only pongs count.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { describe, it } from 'node:test';
import { CloseCode, type Room } from '@payments-system/protocol';
import { rawSocket } from '../../src/realtime/frame.ts';
import { connect, type TestClient } from '../support/client.ts';
import { ALICE, BOB, eventually, startTestGateway, type TestGateway } from '../support/gateway.ts';

const BOUND = 64 * 1024;
/** The largest frame these tests send: an event of 1,000 characters in its envelope. */
const FRAME = 1300;
const EVENTS = 10_000; // ~11 MB: far more than loopback's kernel buffers take from a reader that stopped

async function startWithHistory(overrides: Parameters<typeof startTestGateway>[0] = {}): Promise<{ gateway: TestGateway; first: string }> {
  const gateway = await startTestGateway({
    maxBufferedBytes: BOUND,
    recoveryMaxEvents: EVENTS,
    busRetentionCount: EVENTS * 2,
    busRetentionBytes: 64 * 1024 * 1024,
    rateLimitPerSecond: 10_000,
    rateLimitBurst: 10_000,
    ...overrides,
  });
  const first = await publishMany(gateway, EVENTS);
  return { gateway, first };
}

async function publishMany(gateway: TestGateway, count: number): Promise<string> {
  const padding = 'x'.repeat(1000);
  let first = '';
  for (let i = 0; i < count; i++) {
    const id = await gateway.publish({ room: 'broadcast' as Room, type: 'system:broadcast', payload: { message: `${i}${padding}`.slice(0, 1000), level: 'info' } });
    first ||= id;
  }
  return first;
}

/** Stops reading on the client's TCP socket: the kernel buffers fill, then the gateway's. */
function stopReading(client: TestClient): Socket {
  const socket = (client.ws as unknown as { _socket: Socket })._socket;
  socket.pause();
  return socket;
}

/** The largest unsent backlog of alice's server-side socket, sampled every turn until `done`. */
function watchBacklog(gateway: TestGateway): { readonly max: () => number; stop(): void } {
  let max = 0;
  let running = true;
  const sample = () => {
    for (const connection of gateway.hub.connections) {
      if (connection.claims.userId === 'alice') max = Math.max(max, rawSocket(connection.socket)?.writableLength ?? 0);
    }
    if (running) setImmediate(sample);
  };
  sample();
  return { max: () => max, stop: () => void (running = false) };
}

describe('the send path keeps every socket within its bound', () => {
  it('paces a replay to a client that stops reading: the backlog stays within the bound, a second resume is refused', async () => {
    const { gateway, first } = await startWithHistory();
    const client = await connect(gateway.wsUrl, gateway.token(ALICE));
    stopReading(client);
    const backlog = watchBacklog(gateway);
    // The attack: resume after resume. Each used to replay everything at once (11 MB here).
    for (let i = 0; i < 30; i++) client.send({ type: 'resume', payload: { since: first }, correlationId: `r${i}` });
    const [connection] = [...gateway.hub.connections];
    await eventually(() => (rawSocket(connection!.socket)?.writableNeedDrain ?? false) && gateway.stats().replaying === 1, 'the replay to wait for the socket to drain');
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    backlog.stop();
    assert.match(metrics, /gateway_resumes_total\{outcome="in-progress"\} 29/);
    assert.ok(backlog.max() <= BOUND + FRAME, `backlog reached ${backlog.max()} bytes, over the bound (${BOUND}) and a frame`);
    console.log(`paced replay to a stalled reader: largest backlog ${backlog.max()} bytes (bound ${BOUND})`);
  });

  it('closes a client that stops reading and keeps sending pings with 4008 once the replies pass the bound', async () => {
    const { gateway, first } = await startWithHistory();
    const client = await connect(gateway.wsUrl, gateway.token(ALICE));
    const socket = stopReading(client);
    const backlog = watchBacklog(gateway);
    client.send({ type: 'resume', payload: { since: first } });
    const [connection] = [...gateway.hub.connections];
    await eventually(() => rawSocket(connection!.socket)?.writableNeedDrain ?? false, 'the kernel buffers to fill');
    for (let i = 0; i < 3000; i++) client.send({ type: 'ping', correlationId: `p${i}` });
    await eventually(() => connection!.socket.readyState !== WebSocket.OPEN, 'the gateway to close the socket');
    backlog.stop();
    assert.ok(backlog.max() <= BOUND + FRAME, `backlog reached ${backlog.max()} bytes`);
    socket.resume();
    assert.equal((await client.closed).code, CloseCode.SlowConsumer);
    assert.match(await (await fetch(`${gateway.url}/metrics`)).text(), /gateway_slow_consumer_closes_total 1/);
  });

  it('counts live events held during a replay against the bound: 4008 once they pass it', async () => {
    const { gateway, first } = await startWithHistory();
    const client = await connect(gateway.wsUrl, gateway.token(ALICE));
    const socket = stopReading(client);
    const backlog = watchBacklog(gateway);
    client.send({ type: 'resume', payload: { since: first } });
    await eventually(() => gateway.stats().replaying === 1 && [...gateway.hub.connections].every((c) => rawSocket(c.socket)?.writableNeedDrain), 'the replay to stall');
    const bob = await connect(gateway.wsUrl, gateway.token(BOB));
    await publishMany(gateway, 100); // ~110 KB of live events for alice's rooms, held while she replays
    await bob.next('system:broadcast');
    backlog.stop();
    assert.equal(gateway.stats().replaying, 0, 'the replay was dropped with the slow consumer');
    socket.resume();
    assert.equal((await client.closed).code, CloseCode.SlowConsumer);
    assert.ok(backlog.max() <= BOUND + FRAME, `backlog reached ${backlog.max()} bytes`);
  });

  it('releases a socket closed with 4008 whose client never reads within HEARTBEAT_TIMEOUT_MS, not ws\'s 30 s', async () => {
    // A long heartbeat interval, so that only the close timeout can end the socket.
    const { gateway, first } = await startWithHistory({ heartbeatIntervalMs: 60_000, heartbeatTimeoutMs: 500 });
    const client = await connect(gateway.wsUrl, gateway.token(ALICE));
    stopReading(client);
    client.send({ type: 'resume', payload: { since: first } });
    await eventually(() => gateway.stats().replaying === 1 && [...gateway.hub.connections].every((c) => rawSocket(c.socket)?.writableNeedDrain), 'the replay to stall');
    await publishMany(gateway, 100);
    const closedAt = performance.now();
    assert.match(await (await fetch(`${gateway.url}/metrics`)).text(), /gateway_slow_consumer_closes_total 1/);
    await eventually(() => gateway.stats().connections === 0, 'the socket to be released', 5000);
    const ms = performance.now() - closedAt;
    assert.ok(ms >= 400, `released after ${ms} ms: before the close timeout?`);
    console.log(`a 4008 socket whose client never reads released ${Math.round(ms)} ms after the close (HEARTBEAT_TIMEOUT_MS 500)`);
  });

  it('limits resumes per socket on their own budget (RATE_LIMITED), far below the message rate', async () => {
    const { gateway } = await startWithHistory({ resumeBurst: 2, resumesPerMinute: 1 });
    const client = await connect(gateway.wsUrl, gateway.token(ALICE));
    for (const correlationId of ['a', 'b']) {
      client.send({ type: 'resume', payload: { since: '1-0' }, correlationId });
      assert.equal((await client.next('recovery:failed')).correlationId, correlationId);
    }
    client.send({ type: 'resume', payload: { since: '1-0' }, correlationId: 'c' });
    const refused = await client.next('error');
    assert.equal(refused.correlationId, 'c');
    assert.equal(refused.payload.code, 'RATE_LIMITED');
    assert.match(refused.payload.message, /too many resume requests; retry in \d+ s/);
    assert.equal((await client.request({ type: 'ping' })).type, 'pong', 'other messages are not limited by it');
  });

  it('terminates a client that writes but never reads: only a pong keeps a socket alive', async () => {
    const gateway = await startTestGateway({ heartbeatIntervalMs: 200, heartbeatTimeoutMs: 100, rateLimitPerSecond: 1000, rateLimitBurst: 1000 });
    const client = await connect(gateway.wsUrl, gateway.token(ALICE));
    stopReading(client); // it never sees the pings, so it never pongs
    const chatter = setInterval(() => client.send({ type: 'ping' }), 20);
    try {
      await eventually(() => gateway.stats().connections === 0, 'the heartbeat to terminate the socket', 3000);
    } finally {
      clearInterval(chatter);
    }
    assert.match(await (await fetch(`${gateway.url}/metrics`)).text(), /gateway_heartbeat_terminations_total 1/);
  });
});
