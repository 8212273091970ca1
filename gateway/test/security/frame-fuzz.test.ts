/**
 * Frames, fuzzed: the protocol's parser is total (it never throws, and what it accepts survives a
 * round trip), a socket answers any text or binary frame and keeps answering pings, and random
 * bytes on the wire end only that socket.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { CLIENT_MESSAGE_TYPES, parseClientMessage } from '@payments-system/protocol';
import { connect } from '../support/client.ts';
import { ALICE, BOB, eventually, startTestGateway, type TestGateway } from '../support/gateway.ts';

const knownType = fc.constantFrom(...CLIENT_MESSAGE_TYPES, 'pong', 'subscribed', 'error', 'payment:updated', '', 'PING');
const roomLike = fc.oneof(
  fc.constantFrom('broadcast', 'user:alice', 'user:bob', 'role:ADMIN', 'role:ROOT', 'payment:pay_1', 'user:', 'user:../x', 'payment:a'.padEnd(200, 'a')),
  fc.string({ maxLength: 40 }),
  fc.jsonValue({ maxDepth: 2 }),
);
/** Objects shaped like client messages, right and wrong in every field. */
const messageLike = fc.record(
  {
    type: fc.oneof(knownType, fc.jsonValue({ maxDepth: 1 })),
    payload: fc.oneof(
      fc.record({ room: roomLike }, { requiredKeys: [] }),
      fc.record({ since: fc.oneof(fc.constantFrom('0-0', '1765447200000-3', '99999999999999999999-1', '1-'), fc.string({ maxLength: 30 })) }, { requiredKeys: [] }),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    correlationId: fc.oneof(fc.string({ maxLength: 200 }), fc.jsonValue({ maxDepth: 1 })),
    timestamp: fc.oneof(fc.date({ noInvalidDate: true }).map((date) => date.toISOString()), fc.string({ maxLength: 30 })),
  },
  { requiredKeys: [] },
);
const frameText = fc.oneof(
  messageLike.map((message) => JSON.stringify(message)),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
);

describe('frame parser (property)', () => {
  it('never throws; accepts only known client messages, which survive a round trip; errors stay short', () => {
    fc.assert(
      fc.property(frameText, (text) => {
        const result = parseClientMessage(text);
        if (result.ok) {
          assert.ok(CLIENT_MESSAGE_TYPES.includes(result.value.type));
          assert.deepEqual(parseClientMessage(JSON.stringify(result.value)), result);
        } else {
          assert.ok(result.error.length > 0 && result.error.length <= 1000, `error of ${result.error.length} characters`);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('frames on a real socket (property)', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway({ rateLimitPerSecond: 100_000, rateLimitBurst: 100_000, maxPayloadBytes: 4096 });
  });

  it('answers any text or binary frame, and the socket still answers a ping after it', async () => {
    const client = await connect(gateway.wsUrl, gateway.token(ALICE));
    const frame = fc.oneof(frameText, fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)));
    let pings = 0;
    await fc.assert(
      fc.asyncProperty(frame, async (data) => {
        client.ws.send(data);
        // Every answer the frame got parses as a server message (TestClient checks each one).
        const pong = await client.request({ type: 'ping' });
        assert.equal(pong.type, 'pong');
        pings++;
      }),
      { numRuns: 400 },
    );
    assert.equal(pings, 400);
    assert.equal(client.ws.readyState, client.ws.OPEN);
    await client.close();
    await eventually(() => gateway.stats().connections === 0, 'the socket to be released');
  });

  it('survives random bytes on the wire: every such socket is released, the gateway and other sockets serve on', async () => {
    const calm = await connect(gateway.wsUrl, gateway.token(BOB));
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 64 }), async (bytes) => {
        const client = await connect(gateway.wsUrl, gateway.token(ALICE));
        (client.ws as unknown as { _socket: Socket })._socket.write(bytes);
        // Either ws refused the bytes (the socket closes) or they are a frame still incomplete or
        // valid: then the socket is open, and we end it.
        await Promise.race([client.closed, new Promise((resolve) => setImmediate(resolve))]);
        client.ws.terminate();
        await client.closed;
      }),
      { numRuns: 60 },
    );
    assert.equal((await calm.request({ type: 'ping' })).type, 'pong');
    assert.equal((await fetch(`${gateway.url}/api/health`)).status, 200);
    await eventually(() => gateway.stats().connections === 1, 'every fuzzed socket to be released');
    assert.equal(gateway.stats().rooms, 3, 'only the calm socket\'s rooms are left');
  });
});
