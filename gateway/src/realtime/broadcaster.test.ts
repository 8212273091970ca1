/**
 * The slow-consumer bound of the broadcaster, on real sockets: a client that stops reading is
 * reported once its unsent backlog passes the bound, and never with more than one frame over
 * it, for a bound above the TCP socket's high-water mark (where the backlog is read only when
 * `write` reports it) and for one below it (read after every write). A client that keeps
 * reading in the same room gets every event and is never reported.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { getDefaultHighWaterMark } from 'node:stream';
import { describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import type { Room, RoomEvent } from '@payments-system/protocol';
import type { Claims } from '../auth/tokens.ts';
import { Broadcaster } from './broadcaster.ts';
import { Connection, GatewaySocket, type ConnectionOwner } from './connection.ts';
import { rawSocket, textFrame } from './frame.ts';
import { Outbound } from './outbound.ts';
import { RoomRegistry } from './room-registry.ts';

const ROOM = 'broadcast' as Room;
const owner: ConnectionOwner = { logger: undefined as never, handleFrame() {}, release() {} };
const claims: Claims = { userId: 'reader', email: 'reader@test.test', role: 'CUSTOMER', exp: 2_000_000_000 };
const event = (n: number): RoomEvent =>
  ({ type: 'system:broadcast', payload: { message: `${n}:${'x'.repeat(1000)}`, level: 'info' }, timestamp: new Date().toISOString(), id: `1-${n}` }) as RoomEvent;
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

async function floodUntilReported(bound: number) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, clientTracking: false, WebSocket: GatewaySocket });
  await once(wss, 'listening');
  const rooms = new RoomRegistry();
  const accepted: GatewaySocket[] = [];
  wss.on('connection', (socket: GatewaySocket) => {
    socket.connection = new Connection(owner, String(accepted.length), socket, claims);
    rooms.join(socket.connection, ROOM);
    accepted.push(socket);
  });
  const reports: { connection: Connection; backlog: number }[] = [];
  const broadcaster = new Broadcaster(
    rooms,
    new Outbound(bound, (connection) => {
      reports.push({ connection, backlog: rawSocket(connection.socket)?.writableLength ?? -1 });
      connection.socket.terminate();
    }),
  );
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const healthy = new WebSocket(url);
  let received = 0;
  healthy.on('message', () => received++);
  await once(healthy, 'open');
  const stalled = new WebSocket(url);
  await once(stalled, 'open');
  while (accepted.length < 2) await nextTurn();
  // The stalled client stops reading: the kernel's buffers fill first, then the server's queue.
  rawSocket(stalled)!.pause();

  const frameBytes = textFrame(JSON.stringify(event(0))).length;
  let sent = 0;
  let delivered = 0;
  // One event per turn: frames corked within a burst count as backlog too, and a burst bigger
  // than a small bound would report the reading client as well.
  while (reports.length === 0 && sent < 100_000) {
    delivered += broadcaster.deliver(ROOM, event(sent++)).delivered;
    await nextTurn();
  }
  // The server's close frame follows every event on the reading client's TCP stream: once the
  // client sees it, an event it has not received was lost (and the test says so, not a timeout).
  const healthyClosed = once(healthy, 'close');
  accepted[0]!.close();
  await healthyClosed;
  stalled.terminate();
  wss.close();
  return { reports, stalledSocket: accepted[1], frameBytes, sent, delivered, received };
}

describe('Broadcaster: slow consumers', () => {
  for (const bound of [64 * 1024, 4 * 1024]) {
    const where = bound >= getDefaultHighWaterMark(false) ? 'above' : 'below';
    it(`reports a stalled socket once its backlog passes ${bound} bytes (${where} the high-water mark), by at most one frame`, { timeout: 30_000 }, async () => {
      const { reports, stalledSocket, frameBytes, sent, delivered, received } = await floodUntilReported(bound);
      assert.equal(reports.length, 1, 'reported once, and only the stalled socket');
      const [report] = reports;
      assert.equal(report!.connection.socket, stalledSocket);
      assert.ok(report!.backlog > bound, `backlog ${report!.backlog} passed the bound ${bound}`);
      assert.ok(report!.backlog <= bound + frameBytes, `backlog ${report!.backlog} is over the bound by more than one ${frameBytes}-byte frame`);
      assert.equal(received, sent, 'the reading client got every event');
      // Both sockets count until the stalled one is reported; the frame that passed the bound does not.
      assert.equal(delivered, 2 * sent - 1);
    });
  }
});
