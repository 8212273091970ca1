/**
 * The message handler on fake sockets, with node's mock timers as the clock: every client message
 * type, bad input of any shape, the rate limit and the resume budget.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import fc from 'fast-check';
import {
  CLIENT_MESSAGE_TYPES,
  CloseCode,
  type ClientMessage,
  type ClientMessageType,
  type Room,
  type ServerMessage,
  type ServerMessageType,
} from '@payments-system/protocol';
import { counterValue, fakeConnection, quietServices, tokenAt, UNIT_LIMITS } from '../../test/support/fakes.ts';
import type { Connection } from './connection.ts';
import { handleClientFrame, type MessageContext } from './message-handler.ts';
import { Outbound } from './outbound.ts';
import { reply } from './reply.ts';
import { TokenVerifier, type Claims } from '../auth/tokens.ts';

interface Recorded {
  readonly joined: Array<[Connection, Room]>;
  readonly left: Array<[Connection, Room]>;
  readonly resumed: Array<[Connection, string, string | undefined]>;
  readonly renewed: Array<[Connection, Claims]>;
  readonly presence: Array<[Connection, Room, boolean]>;
  readonly slow: Connection[];
  resuming: boolean;
}

const SECRET = 'unit-secret-0123456789abcdef0123456789';
const verifier = new TokenVerifier(SECRET, { nowSeconds: () => Math.floor(Date.now() / 1000) });

function harness(limits = UNIT_LIMITS): { context: MessageContext; recorded: Recorded } {
  const recorded: Recorded = { joined: [], left: [], resumed: [], renewed: [], presence: [], slow: [], resuming: false };
  const context: MessageContext = {
    ...quietServices(),
    limits,
    outbound: new Outbound(1024 * 1024, (connection) => recorded.slow.push(connection)),
    roomAccess: { payment: (claims, paymentId) => paymentId === `owned_by_${claims.userId}` },
    now: () => Date.now(),
    join: (connection, room) => void recorded.joined.push([connection, room]),
    leave: (connection, room) => void recorded.left.push([connection, room]),
    canResume: () => !recorded.resuming,
    position: () => (recorded.resuming ? undefined : '1765447200000-7'),
    resume: (connection, since, correlationId) => {
      recorded.resumed.push([connection, since, correlationId]);
      recorded.resuming = true;
    },
    authenticate: (token) => verifier.authenticate(token),
    renew: (connection, claims) => {
      recorded.renewed.push([connection, claims]);
      return true;
    },
    presence: {
      request: (connection, room, watch, correlationId) => {
        recorded.presence.push([connection, room, watch]);
        reply(context, connection, 'presence', { room, members: [] }, correlationId);
      },
    },
    failed: (connection, error) => {
      throw new Error(`handler failed for ${connection.id}: ${String(error)}`);
    },
  };
  return { context, recorded };
}

function send(context: MessageContext, connection: Connection, message: unknown, isBinary = false): void {
  const text = typeof message === 'string' ? message : JSON.stringify(message);
  handleClientFrame(context, connection, Buffer.from(text), isBinary);
}

function lastReply(connection: ReturnType<typeof fakeConnection>): ServerMessage {
  const messages = connection.socket.messages();
  assert.ok(messages.length > 0, 'a reply was written');
  return messages.at(-1)!;
}

beforeEach(() => mock.timers.enable({ apis: ['Date'], now: 1_765_447_200_000 }));
afterEach(() => mock.timers.reset());

describe('message handler: every client message type', () => {
  // One entry per type: a new message type in the protocol does not compile here until it has one.
  const cases: { readonly [K in ClientMessageType]: { message: ClientMessage<K>; reply: ServerMessageType; check(recorded: Recorded): void } } = {
    ping: { message: { type: 'ping', correlationId: 'p1' }, reply: 'pong', check: () => undefined },
    subscribe: {
      message: { type: 'subscribe', payload: { room: 'user:alice' }, correlationId: 's1' },
      reply: 'subscribed',
      check: (recorded) => assert.deepEqual(recorded.joined.map(([, room]) => room), ['user:alice']),
    },
    unsubscribe: {
      message: { type: 'unsubscribe', payload: { room: 'broadcast' }, correlationId: 'u1' },
      reply: 'unsubscribed',
      check: (recorded) => assert.deepEqual(recorded.left.map(([, room]) => room), ['broadcast']),
    },
    resume: {
      message: { type: 'resume', payload: { since: '1765447200000-0' }, correlationId: 'r1' },
      reply: 'pong', // the replay answers later (replay.ts); the handler only starts it
      check: (recorded) => assert.deepEqual(recorded.resumed.map(([, since, id]) => [since, id]), [['1765447200000-0', 'r1']]),
    },
    auth: {
      message: { type: 'auth', payload: { token: tokenAt(SECRET, { userId: 'alice', role: 'CUSTOMER' }, { iat: 1_765_447_200 }) }, correlationId: 'a1' },
      reply: 'authenticated',
      check: (recorded) => assert.deepEqual(recorded.renewed.map(([, claims]) => claims.userId), ['alice']),
    },
    presence: {
      message: { type: 'presence', payload: { room: 'user:alice', watch: true }, correlationId: 'w1' },
      reply: 'presence',
      check: (recorded) => assert.deepEqual(recorded.presence.map(([, room, watch]) => [room, watch]), [['user:alice', true]]),
    },
  };

  for (const type of CLIENT_MESSAGE_TYPES) {
    it(`handles ${type}`, async () => {
      const { context, recorded } = harness();
      const connection = fakeConnection();
      const { message, reply, check } = cases[type];
      send(context, connection, message);
      check(recorded);
      if (type === 'resume') assert.deepEqual(connection.socket.messages(), []);
      else {
        const answer = lastReply(connection);
        assert.equal(answer.type, reply);
        assert.equal(answer.correlationId, message.correlationId);
      }
      assert.equal(connection.socket.closedWith, undefined);
      assert.equal(await counterValue(context.metrics, 'gateway_messages_received_total', { type }), 1);
    });
  }

  it('answers FORBIDDEN, naming the room, for a room the user may not join, and joins nothing', () => {
    const { context, recorded } = harness();
    const connection = fakeConnection({ userId: 'alice' });
    for (const room of ['user:bob', 'role:ADMIN', 'payment:owned_by_bob']) {
      send(context, connection, { type: 'subscribe', payload: { room }, correlationId: room });
      const answer = lastReply(connection);
      assert.equal(answer.type, 'error');
      assert.deepEqual(answer.payload, { code: 'FORBIDDEN', room, message: `not allowed to join ${room}` });
      assert.equal(answer.correlationId, room);
    }
    send(context, connection, { type: 'subscribe', payload: { room: 'payment:owned_by_alice' } });
    assert.equal(lastReply(connection).type, 'subscribed', 'the room rule of the embedder decides payment rooms');
    assert.deepEqual(recorded.joined.map(([, room]) => room), ['payment:owned_by_alice']);
  });

  it('refuses a second resume while one is in progress, without starting it', () => {
    const { context, recorded } = harness();
    const connection = fakeConnection();
    send(context, connection, { type: 'resume', payload: { since: '1-0' } });
    send(context, connection, { type: 'resume', payload: { since: '1-0' }, correlationId: 'again' });
    assert.equal(recorded.resumed.length, 1);
    const answer = lastReply(connection);
    assert.equal(answer.type, 'error');
    assert.deepEqual(answer.payload, { code: 'BAD_REQUEST', message: 'a resume is already in progress' });
    assert.equal(answer.correlationId, 'again');
  });

  it('answers a resume without since with the position, without a replay or a resume token; BAD_REQUEST during one', () => {
    const { context, recorded } = harness();
    const connection = fakeConnection();
    for (let i = 0; i < UNIT_LIMITS.resumes.burst + 2; i++) {
      send(context, connection, { type: 'resume', payload: {}, correlationId: `p${i}` });
      const answer = lastReply(connection);
      assert.deepEqual([answer.type, answer.payload, answer.correlationId], ['resumed', { since: '1765447200000-7', replayed: 0 }, `p${i}`]);
    }
    assert.equal(recorded.resumed.length, 0, 'no replay started');
    send(context, connection, { type: 'resume', payload: { since: '1-0' } });
    assert.equal(recorded.resumed.length, 1, 'the resume budget is untouched');
    send(context, connection, { type: 'resume', payload: {}, correlationId: 'during' });
    const refused = lastReply(connection);
    assert.deepEqual([refused.type, refused.correlationId], ['error', 'during']);
    assert.equal((refused.payload as { code: string }).code, 'BAD_REQUEST');
  });

  it('allows WS_RESUME_BURST resumes at once, then RATE_LIMITED with the wait, then one more per refill', () => {
    const { context, recorded } = harness();
    const connection = fakeConnection();
    const resume = () => {
      recorded.resuming = false; // each replay finished before the next request
      send(context, connection, { type: 'resume', payload: { since: '1-0' } });
    };
    for (let i = 0; i < UNIT_LIMITS.resumes.burst; i++) resume();
    assert.equal(recorded.resumed.length, 3);
    resume();
    assert.equal(recorded.resumed.length, 3);
    assert.deepEqual(lastReply(connection).payload, { code: 'RATE_LIMITED', message: 'too many resume requests; retry in 10 s' });
    mock.timers.tick(9_999);
    resume();
    assert.equal(recorded.resumed.length, 3, 'not before the token is back');
    mock.timers.tick(1);
    resume();
    assert.equal(recorded.resumed.length, 4);
  });
});

describe('message handler: bad input', () => {
  const refusals: Array<[string, string | Buffer, boolean, RegExp]> = [
    ['a binary frame', Buffer.from([1, 2, 3]), true, /binary frames are not supported/],
    ['text that is not JSON', '{"type":', false, /JSON/],
    ['JSON that is not an object', '[1,2]', false, /object/],
    ['an unknown type', '{"type":"shout"}', false, /type/],
    ['a subscribe without a room', '{"type":"subscribe","payload":{}}', false, /room/],
    ['a room that is not a room', '{"type":"subscribe","payload":{"room":"kitchen"}}', false, /room/],
    ['a resume with a bad id', '{"type":"resume","payload":{"since":"yesterday"}}', false, /since/],
    ['an auth without a token', '{"type":"auth","payload":{}}', false, /payload\.token/],
    ['presence of a role room', '{"type":"presence","payload":{"room":"role:ADMIN"}}', false, /payload\.room: must be a user:<id> or payment:<id> room/],
    ['presence with a watch that is not a boolean', '{"type":"presence","payload":{"room":"user:alice","watch":"yes"}}', false, /payload\.watch/],
  ];
  for (const [what, frame, isBinary, message] of refusals) {
    it(`answers BAD_REQUEST to ${what} and keeps the socket open`, async () => {
      const { context, recorded } = harness();
      const connection = fakeConnection();
      handleClientFrame(context, connection, Buffer.isBuffer(frame) ? frame : Buffer.from(frame), isBinary);
      const answer = lastReply(connection);
      assert.equal(answer.type, 'error');
      assert.equal((answer.payload as { code: string }).code, 'BAD_REQUEST');
      assert.match((answer.payload as { message: string }).message, message);
      assert.equal(connection.socket.closedWith, undefined);
      assert.deepEqual([recorded.joined, recorded.left, recorded.resumed, recorded.renewed, recorded.presence], [[], [], [], [], []]);
      assert.equal(await counterValue(context.metrics, 'gateway_messages_received_total', { type: 'invalid' }), 1);
    });
  }

  it('answers any frame at all with exactly one reply or a started resume, never a throw or a close', () => {
    const limits = { ...UNIT_LIMITS, messages: { perSecond: 1e9, burst: 1e9 }, resumes: { perSecond: 1e9, burst: 1e9 } };
    const frames = fc.oneof(
      fc.string(),
      fc.json(),
      fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
      fc.record({ type: fc.constantFrom(...CLIENT_MESSAGE_TYPES, 'shout'), payload: fc.anything(), correlationId: fc.anything() }, { requiredKeys: ['type'] }).map((message) => JSON.stringify(message)),
    );
    fc.assert(
      fc.property(frames, fc.boolean(), (frame, isBinary) => {
        const { context, recorded } = harness(limits);
        const connection = fakeConnection();
        handleClientFrame(context, connection, Buffer.isBuffer(frame) ? frame : Buffer.from(frame), isBinary);
        assert.equal(connection.socket.messages().length + recorded.resumed.length, 1);
        assert.equal(connection.socket.closedWith, undefined);
      }),
      { numRuns: 500 },
    );
  });
});

describe('message handler: rate limit', () => {
  it('takes the burst, closes with 1008 on the next message, and drops what arrives after', async () => {
    const { context } = harness();
    const connection = fakeConnection();
    for (let i = 0; i < UNIT_LIMITS.messages.burst; i++) send(context, connection, { type: 'ping' });
    assert.equal(connection.socket.messages().length, 40);
    assert.equal(connection.socket.closedWith, undefined);
    send(context, connection, { type: 'ping' });
    assert.deepEqual(connection.socket.closedWith, { code: CloseCode.PolicyViolation, reason: 'rate limit exceeded' });
    send(context, connection, { type: 'ping' });
    assert.equal(connection.socket.messages().length, 40, 'nothing answered once closing');
    assert.equal(await counterValue(context.metrics, 'gateway_rate_limit_closes_total'), 1);
  });

  it('refills at the sustained rate: one more message every 1/rate seconds', () => {
    const { context } = harness();
    const connection = fakeConnection();
    for (let i = 0; i < UNIT_LIMITS.messages.burst; i++) send(context, connection, { type: 'ping' });
    for (let second = 0; second < 5; second++) {
      mock.timers.tick(1000);
      for (let i = 0; i < UNIT_LIMITS.messages.perSecond; i++) send(context, connection, { type: 'ping' });
    }
    assert.equal(connection.socket.closedWith, undefined, 'the sustained rate is allowed forever');
    assert.equal(connection.socket.messages().length, 40 + 5 * 20);
    send(context, connection, { type: 'ping' });
    assert.equal(connection.socket.closeCode(), CloseCode.PolicyViolation);
  });

  it('counts bad input against the limit like any message', () => {
    const { context } = harness();
    const connection = fakeConnection();
    for (let i = 0; i <= UNIT_LIMITS.messages.burst; i++) send(context, connection, 'not json');
    assert.equal(connection.socket.closeCode(), CloseCode.PolicyViolation);
  });

  it('does not count a message as heartbeat liveness', () => {
    const { context } = harness();
    const connection = fakeConnection();
    connection.alive = false;
    send(context, connection, { type: 'ping' });
    assert.equal(connection.alive, false);
  });
});
