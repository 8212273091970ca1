/**
 * Bad input gets a clear answer and the connection (and process) survive it; only an
 * oversized frame (1009) or a flood (1008) closes the socket.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { CloseCode } from '@payments-system/protocol';
import type { GatewaySocket } from '../../src/realtime/connection.ts';
import { connect } from '../support/client.ts';
import { ALICE, BOB, startTestGateway, type TestGateway } from '../support/gateway.ts';

describe('client input hardening', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway({ maxPayloadBytes: 2048, rateLimitPerSecond: 50, rateLimitBurst: 100 });
  });

  const badFrames: Array<[string, string | Buffer, RegExp]> = [
    ['invalid JSON', '{"type": "ping"', /invalid JSON/],
    ['a JSON array', '[{"type":"ping"}]', /JSON object/],
    ['a JSON number', '42', /JSON object/],
    ['JSON null', 'null', /JSON object/],
    ['an unknown type', '{"type":"drop_tables"}', /unknown message type/],
    ['a missing type', '{"payload":{}}', /type/],
    ['a subscribe without payload', '{"type":"subscribe"}', /payload/],
    ['a subscribe with a numeric room', '{"type":"subscribe","payload":{"room":42}}', /payload\.room/],
    ['a subscribe to a malformed room', '{"type":"subscribe","payload":{"room":"user:../../x"}}', /payload\.room/],
    ['a correlationId that is not a string', '{"type":"ping","correlationId":{"a":1}}', /correlationId/],
    ['a binary frame', Buffer.from([1, 2, 3]), /binary frames are not supported/],
  ];

  for (const [what, frame, message] of badFrames) {
    it(`answers ${what} with BAD_REQUEST, and the socket still answers a ping`, async () => {
      const client = await connect(gateway.wsUrl, gateway.token(ALICE));
      client.ws.send(frame);
      const error = await client.next('error');
      assert.equal(error.payload.code, 'BAD_REQUEST');
      assert.match(error.payload.message, message);
      const pong = await client.request({ type: 'ping' });
      assert.equal(pong.type, 'pong');
    });
  }

  it('closes a frame larger than WS_MAX_PAYLOAD_BYTES with 1009, and the gateway keeps serving', async () => {
    const client = await connect(gateway.wsUrl, gateway.token(ALICE));
    client.send({ type: 'ping', correlationId: 'x'.repeat(100), padding: 'y'.repeat(4096) });
    assert.equal((await client.closed).code, CloseCode.MessageTooBig);
    const other = await connect(gateway.wsUrl, gateway.token(BOB));
    assert.equal((await other.request({ type: 'ping' })).type, 'pong');
  });

  it('closes a flooding client with 1008 after its burst, and leaves other clients alone', async () => {
    const calm = await connect(gateway.wsUrl, gateway.token(BOB));
    const flooder = await connect(gateway.wsUrl, gateway.token(ALICE));
    for (let i = 0; i < 500; i++) flooder.send({ type: 'ping', correlationId: `f${i}` });
    const closed = await flooder.closed;
    assert.equal(closed.code, CloseCode.PolicyViolation);
    assert.equal(closed.reason, 'rate limit exceeded');
    const answered = flooder.unread().filter((message) => message.type === 'pong').length;
    assert.ok(answered >= 100 && answered < 500, `answered ${answered} pings before closing`);
    assert.equal((await calm.request({ type: 'ping' })).type, 'pong');
  });

  it('survives a protocol violation on the wire (invalid opcode): 1002 for that socket, the process serves on', async () => {
    const client = await connect(gateway.wsUrl, gateway.token(ALICE));
    // A masked frame with the reserved opcode 0xF: ws raises an error on the server socket.
    const rawSocket = (client.ws as unknown as { _socket: { write(data: Buffer): void } })._socket;
    rawSocket.write(Buffer.from([0x8f, 0x80, 0, 0, 0, 0]));
    assert.equal((await client.closed).code, 1002);
    const health = await fetch(`${gateway.url}/api/health`);
    assert.equal(health.status, 200);
  });

  it('survives an error event emitted on a server socket', async () => {
    const client = await connect(gateway.wsUrl, gateway.token(ALICE));
    const [connection] = [...gateway.hub.connections].filter((c) => c.claims.userId === 'alice' && c.socket.readyState === 1);
    assert.ok(connection);
    (connection.socket as GatewaySocket).emit('error', new Error('simulated socket failure'));
    assert.equal((await client.request({ type: 'ping' })).type, 'pong');
  });
});
