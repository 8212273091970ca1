/**
 * The message-type lists are derived from the payload-schema records. The run-time tests check the lists and
 * the unions built from them; the type checks below are checked by `npm run typecheck` (an unused
 * `@ts-expect-error` fails it too).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertNever } from './assert-never.js';
import {
  CLIENT_MESSAGE_TYPES,
  clientPayloadSchemas,
  isPresenceChangeType,
  isRoomEvent,
  isRoomEventType,
  PRESENCE_CHANGE_TYPES,
  presenceChangePayloadSchemas,
  REPLY_TYPES,
  replyPayloadSchemas,
  ROOM_EVENT_TYPES,
  roomEventPayloadSchemas,
  SERVER_MESSAGE_TYPES,
  type ClientMessage,
  type PublishRequest,
  type RoomEventType,
  type RoomPayload,
  type ServerMessage,
  type ServerMessageType,
} from './messages.js';
import type { PresenceRoom } from './rooms.js';
import { parseClientMessage, parsePublishRequest, parseServerMessage } from './parse.js';

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const typeIs = <T extends true>(value: T): T => value;

const TS = '2026-12-11T10:00:00.000Z';
/** One valid frame of each server type: a new type without an entry here fails to compile. */
const SAMPLES: { readonly [K in ServerMessageType]: ServerMessage<K>['payload'] } = {
  'payment:updated': { paymentId: 'p1', status: 'completed', amount: '1.00', currency: 'EUR' },
  'session:sync': { userId: 'u1', sessionId: 's1', action: 'logout' },
  'notification:new': { notificationId: 'n1', level: 'info', title: 't', message: 'm' },
  'system:broadcast': { message: 'm', level: 'warning' },
  pong: {},
  subscribed: { room: 'broadcast' },
  unsubscribed: { room: 'broadcast' },
  error: { code: 'FORBIDDEN', message: 'no', room: 'role:ADMIN' },
  resumed: { since: '1765447200000-0', replayed: 0 },
  'recovery:failed': { since: '1765447200000-0', reason: 'too-old' },
  authenticated: { expiresAt: '2026-12-11T10:15:00.000Z' },
  presence: { room: 'payment:p1', members: [{ userId: 'u1', role: 'ADMIN', connections: 2 }] },
  'presence:joined': { room: 'user:u1', userId: 'u1', role: 'CUSTOMER' },
  'presence:left': { room: 'user:u1', userId: 'u1' },
};

describe('message-type lists', () => {
  it('are the keys of the payload-schema records, in order', () => {
    assert.deepEqual(ROOM_EVENT_TYPES, Object.keys(roomEventPayloadSchemas));
    assert.deepEqual(REPLY_TYPES, Object.keys(replyPayloadSchemas));
    assert.deepEqual(PRESENCE_CHANGE_TYPES, Object.keys(presenceChangePayloadSchemas));
    assert.deepEqual(SERVER_MESSAGE_TYPES, [...ROOM_EVENT_TYPES, ...REPLY_TYPES, ...PRESENCE_CHANGE_TYPES]);
    assert.deepEqual(CLIENT_MESSAGE_TYPES, Object.keys(clientPayloadSchemas));
    assert.ok(Object.isFrozen(SERVER_MESSAGE_TYPES));
  });

  it('build a server union that accepts every listed type and names them all for an unknown one', () => {
    for (const type of SERVER_MESSAGE_TYPES) {
      const result = parseServerMessage(JSON.stringify({ type, payload: SAMPLES[type], timestamp: TS }));
      assert.ok(result.ok, `${type}: ${result.ok ? '' : result.error}`);
    }
    const unknown = parseServerMessage(JSON.stringify({ type: 'payment:deleted', payload: {}, timestamp: TS }));
    assert.equal(unknown.ok, false);
    assert.match((unknown as { error: string }).error, new RegExp(`expected one of ${SERVER_MESSAGE_TYPES.join(', ')}$`));
  });

  it('build a client union with one member per listed type', () => {
    const payloads: { readonly [K in ClientMessage['type']]: unknown } = {
      subscribe: { room: 'broadcast' },
      unsubscribe: { room: 'user:u1' },
      ping: undefined,
      resume: { since: '1765447200000-3' },
      auth: { token: 'header.claims.signature' },
      presence: { room: 'payment:p1', watch: true },
    };
    for (const type of CLIENT_MESSAGE_TYPES) {
      assert.equal(parseClientMessage(JSON.stringify({ type, payload: payloads[type] })).ok, true, type);
    }
  });

  it('make every room event publishable and no reply', () => {
    for (const type of SERVER_MESSAGE_TYPES) {
      const result = parsePublishRequest({ room: 'broadcast', type, payload: SAMPLES[type] });
      assert.equal(result.ok, isRoomEventType(type), type);
    }
  });

  it('isRoomEvent tells room events from replies', () => {
    for (const type of SERVER_MESSAGE_TYPES) {
      const message = { type, payload: SAMPLES[type], timestamp: TS } as ServerMessage;
      assert.equal(isRoomEvent(message), (ROOM_EVENT_TYPES as readonly string[]).includes(type), type);
    }
    assert.equal(isRoomEventType('toString'), false);
  });

  it('isPresenceChangeType names the ephemeral presence changes only', () => {
    for (const type of SERVER_MESSAGE_TYPES) assert.equal(isPresenceChangeType(type), type.startsWith('presence:'), type);
  });

  it('lists presence for user and payment rooms only, and bounds an auth token', () => {
    const request = (room: string) => parseClientMessage(JSON.stringify({ type: 'presence', payload: { room } }));
    assert.equal(request('user:u1').ok, true);
    assert.equal(request('payment:p1').ok, true);
    for (const room of ['broadcast', 'role:ADMIN', 'team:x']) {
      const result = request(room);
      assert.equal(result.ok, false, room);
      assert.match((result as { error: string }).error, /^payload\.room: must be a user:<id> or payment:<id> room/);
    }
    const auth = (token: string) => parseClientMessage(JSON.stringify({ type: 'auth', payload: { token } })).ok;
    assert.equal(auth('x'.repeat(8192)), true);
    assert.equal(auth('x'.repeat(8193)), false);
    assert.equal(auth(''), false);
  });

  it('assertNever throws when a value escapes an exhaustive switch at run time', () => {
    assert.throws(() => assertNever('late' as never, 'message type'), /unexpected message type: "late"/);
  });
});

// ---------------------------------------------------------------- compile-time checks

export function typeChecks(message: ServerMessage, client: ClientMessage, request: PublishRequest): void {
  typeIs<Equals<ClientMessage<'subscribe'>['payload'], RoomPayload>>(true);
  typeIs<Equals<ClientMessage['type'], (typeof CLIENT_MESSAGE_TYPES)[number]>>(true);
  typeIs<Equals<PublishRequest['type'], RoomEventType>>(true);
  typeIs<Equals<(typeof SERVER_MESSAGE_TYPES)[number], ServerMessageType>>(true);
  const ping: ClientMessage = { type: 'ping' }; // a ping's payload is optional
  // @ts-expect-error a subscribe needs its room
  const bare: ClientMessage = { type: 'subscribe' };
  // @ts-expect-error a reply cannot be published
  const reply: PublishRequest = { room: 'broadcast', type: 'pong', payload: {} };
  // @ts-expect-error presence changes are not room events: never published, never on the bus
  const change: PublishRequest = { room: 'user:u1', type: 'presence:left', payload: { room: 'user:u1', userId: 'u1' } };
  // @ts-expect-error role rooms have no presence
  const rolePresence: ClientMessage = { type: 'presence', payload: { room: 'role:ADMIN' } };
  void [ping, bare, reply, change, rolePresence];

  if (isRoomEvent(message)) {
    const type: RoomEventType = message.type;
    void type;
  }
  switch (client.type) {
    case 'subscribe':
    case 'unsubscribe':
      void client.payload.room;
      break;
    case 'presence':
      void (client.payload.room satisfies PresenceRoom);
      break;
    case 'auth':
      void client.payload.token;
      break;
    case 'ping':
    case 'resume':
      break;
    default:
      assertNever(client, 'client message type');
  }
  if (request.type === 'session:sync') void request.payload.sessionId;
}
