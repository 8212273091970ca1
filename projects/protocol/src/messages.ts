/**
 * Every message on the wire, as zod schemas (the single source of truth) and the types
 * inferred from them. `zod/mini` keeps the browser bundle small.
 */
import * as z from 'zod/mini';
import { ERROR_CODES } from './error-codes.js';
import { EVENT_ID_PATTERN } from './event-ids.js';
import { ID_PATTERN, isPresenceRoom, isRoom, MAX_ROOM_LENGTH, ROLES, type PresenceRoom, type Room } from './rooms.js';

/** The keys of a schema record, as its literal types: every type list is derived from a record, never typed by hand. */
function typesOf<R extends Record<string, unknown>>(record: R): readonly (keyof R & string)[] {
  return Object.freeze(Object.keys(record) as (keyof R & string)[]);
}

/** `z.discriminatedUnion` wants a non-empty tuple; the records above are never empty. */
function nonEmpty<T>(options: readonly T[]): [T, ...T[]] {
  return options as [T, ...T[]];
}

const id = z.string().check(z.regex(ID_PATTERN, 'must be 1-128 characters of A-Z a-z 0-9 _ . @ -'));
const timestamp = z.iso.datetime({ offset: true });
const correlationId = z.string().check(z.minLength(1), z.maxLength(128));
const text = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));
const eventId = z.string().check(z.regex(EVENT_ID_PATTERN, 'must be an event id such as "1765447200000-0"'));

export const roomSchema = z.custom<Room>(
  (value) => typeof value === 'string' && value.length <= MAX_ROOM_LENGTH && isRoom(value),
  { error: 'must be a room name: broadcast, user:<id>, role:<ADMIN|CUSTOMER|VENDOR> or payment:<id>' },
);

export const presenceRoomSchema = z.custom<PresenceRoom>(
  (value) => typeof value === 'string' && value.length <= MAX_ROOM_LENGTH && isPresenceRoom(value),
  { error: 'must be a user:<id> or payment:<id> room: only their members are listed' },
);

// ---------------------------------------------------------------- payloads of room events

export const PAYMENT_STATUSES = ['pending', 'processing', 'completed', 'failed', 'refunded'] as const;
export const paymentStatusSchema = z.enum(PAYMENT_STATUSES);
export type PaymentStatus = z.infer<typeof paymentStatusSchema>;

/** Decimal string in major units ("100.00"): exact, unlike a float. */
export const amountSchema = z.string().check(z.regex(/^\d{1,15}(\.\d{1,4})?$/, 'must be a decimal string such as "100.00"'));
export const currencySchema = z.string().check(z.regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as "EUR"'));

export const paymentUpdatedPayloadSchema = z.object({
  paymentId: id,
  status: paymentStatusSchema,
  previousStatus: z.optional(paymentStatusSchema),
  amount: amountSchema,
  currency: currencySchema,
  ownerId: z.optional(id),
  description: z.optional(z.string().check(z.maxLength(280))),
  createdAt: z.optional(timestamp),
  updatedAt: z.optional(timestamp),
});
export type PaymentUpdatedPayload = z.infer<typeof paymentUpdatedPayloadSchema>;

export const SESSION_ACTIONS = ['logout'] as const;
export const sessionSyncPayloadSchema = z.object({
  userId: id,
  sessionId: id,
  action: z.enum(SESSION_ACTIONS),
});
export type SessionSyncPayload = z.infer<typeof sessionSyncPayloadSchema>;

export const NOTICE_LEVELS = ['info', 'success', 'warning', 'error'] as const;
export const noticeLevelSchema = z.enum(NOTICE_LEVELS);
export type NoticeLevel = z.infer<typeof noticeLevelSchema>;

export const notificationPayloadSchema = z.object({
  notificationId: id,
  level: noticeLevelSchema,
  title: text(120),
  message: text(1000),
  paymentId: z.optional(id),
});
export type NotificationPayload = z.infer<typeof notificationPayloadSchema>;

export const systemBroadcastPayloadSchema = z.object({
  message: text(1000),
  level: noticeLevelSchema,
});
export type SystemBroadcastPayload = z.infer<typeof systemBroadcastPayloadSchema>;

/** Room events: published to a room (POST /api/events or the gateway's own domain), carry an `id` and their `room`. */
export const roomEventPayloadSchemas = {
  'payment:updated': paymentUpdatedPayloadSchema,
  'session:sync': sessionSyncPayloadSchema,
  'notification:new': notificationPayloadSchema,
  'system:broadcast': systemBroadcastPayloadSchema,
} as const;
export type RoomEventType = keyof typeof roomEventPayloadSchemas;
export const ROOM_EVENT_TYPES = typesOf(roomEventPayloadSchemas);

// ---------------------------------------------------------------- replies to client requests

export const emptyPayloadSchema = z.object({});
export type EmptyPayload = z.infer<typeof emptyPayloadSchema>;

export const roomPayloadSchema = z.object({ room: roomSchema });
export type RoomPayload = z.infer<typeof roomPayloadSchema>;

export const errorPayloadSchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  room: z.optional(roomSchema),
});
export type ErrorPayload = z.infer<typeof errorPayloadSchema>;

export const resumedPayloadSchema = z.object({
  /** The `since` of the resume; for a resume without one, the socket's position: every later event is delivered. */
  since: eventId,
  /** Events replayed before this message. */
  replayed: z.number().check(z.int(), z.nonnegative()),
});
export type ResumedPayload = z.infer<typeof resumedPayloadSchema>;

export const RECOVERY_FAILURES = [
  /** `since` is older than the bus retains, or was never issued by this bus (a restarted in-memory bus). */
  'too-old',
  /** More events were missed than the gateway replays at once. */
  'too-many',
  /** The bus could not be read; reload state and carry on. */
  'unavailable',
] as const;
export const recoveryFailedPayloadSchema = z.object({
  since: eventId,
  reason: z.enum(RECOVERY_FAILURES),
});
export type RecoveryFailedPayload = z.infer<typeof recoveryFailedPayloadSchema>;

/** The socket accepted the token of an `auth`: its expiry (the token's `exp`) is the socket's new 4001 deadline. */
export const authenticatedPayloadSchema = z.object({ expiresAt: timestamp });
export type AuthenticatedPayload = z.infer<typeof authenticatedPayloadSchema>;

export const roleSchema = z.enum(ROLES);

/** A user with at least one socket in a room, on any gateway. */
export const presenceMemberSchema = z.object({
  userId: id,
  role: roleSchema,
  /** Their sockets in the room, on every gateway together. */
  connections: z.number().check(z.int(), z.positive()),
});
export type PresenceMember = z.infer<typeof presenceMemberSchema>;

export const presencePayloadSchema = z.object({
  room: presenceRoomSchema,
  members: z.array(presenceMemberSchema),
});
export type PresencePayload = z.infer<typeof presencePayloadSchema>;

export const replyPayloadSchemas = {
  pong: emptyPayloadSchema,
  subscribed: roomPayloadSchema,
  unsubscribed: roomPayloadSchema,
  error: errorPayloadSchema,
  resumed: resumedPayloadSchema,
  'recovery:failed': recoveryFailedPayloadSchema,
  authenticated: authenticatedPayloadSchema,
  presence: presencePayloadSchema,
} as const;
export type ReplyType = keyof typeof replyPayloadSchemas;
export const REPLY_TYPES = typesOf(replyPayloadSchemas);

// ---------------------------------------------------------------- presence changes (ephemeral)

/** A user's first socket entered the room (on any gateway). */
export const presenceJoinedPayloadSchema = z.object({ room: presenceRoomSchema, userId: id, role: roleSchema });
export type PresenceJoinedPayload = z.infer<typeof presenceJoinedPayloadSchema>;

/** A user's last socket left the room (on every gateway), or its gateway died. */
export const presenceLeftPayloadSchema = z.object({ room: presenceRoomSchema, userId: id });
export type PresenceLeftPayload = z.infer<typeof presenceLeftPayloadSchema>;

/**
 * Sent to the sockets watching a room's presence. Not room events: no `id`, never stored on the bus, never
 * replayed; a client that reconnects asks for the members again.
 */
export const presenceChangePayloadSchemas = {
  'presence:joined': presenceJoinedPayloadSchema,
  'presence:left': presenceLeftPayloadSchema,
} as const;
export type PresenceChangeType = keyof typeof presenceChangePayloadSchemas;
export const PRESENCE_CHANGE_TYPES = typesOf(presenceChangePayloadSchemas);

// ---------------------------------------------------------------- server → client envelope

export const serverPayloadSchemas = { ...roomEventPayloadSchemas, ...replyPayloadSchemas, ...presenceChangePayloadSchemas } as const;

/** Payload type of each server message type. */
export type ServerPayloads = { [K in keyof typeof serverPayloadSchemas]: z.infer<(typeof serverPayloadSchemas)[K]> };
export type ServerMessageType = keyof ServerPayloads;
export const SERVER_MESSAGE_TYPES = typesOf(serverPayloadSchemas);

interface ServerEnvelope<K extends ServerMessageType> {
  readonly type: K;
  readonly payload: ServerPayloads[K];
  /** ISO 8601, set by the gateway when the message was created. */
  readonly timestamp: string;
  /** Echo of the request's correlationId, or the publisher's for room events. */
  readonly correlationId?: string;
  /** Set on room events: the event's position in the bus, used to resume after a reconnect. */
  readonly id?: string;
  /** Set on room events: the room the event was published to. */
  readonly room?: Room;
}

/** A server message; `ServerMessage<'payment:updated'>` narrows to one type. */
export type ServerMessage<K extends ServerMessageType = ServerMessageType> = { [T in K]: ServerEnvelope<T> }[K];
export type RoomEvent = ServerMessage<RoomEventType>;

const ROOM_EVENT_TYPE_SET: ReadonlySet<string> = new Set(ROOM_EVENT_TYPES);

export function isRoomEventType(type: string): type is RoomEventType {
  return ROOM_EVENT_TYPE_SET.has(type);
}

const PRESENCE_CHANGE_TYPE_SET: ReadonlySet<string> = new Set(PRESENCE_CHANGE_TYPES);

export function isPresenceChangeType(type: string): type is PresenceChangeType {
  return PRESENCE_CHANGE_TYPE_SET.has(type);
}

/** True for messages published to a room (they carry `id` and `room`), false for replies to requests. */
export function isRoomEvent(message: ServerMessage): message is RoomEvent {
  return isRoomEventType(message.type);
}

const serverEnvelope = <K extends ServerMessageType>(type: K) =>
  z.object({
    type: z.literal(type),
    payload: serverPayloadSchemas[type],
    timestamp: timestamp,
    correlationId: z.optional(correlationId),
    id: z.optional(eventId),
    room: z.optional(roomSchema),
  });

/** Validates every server message; its output is a {@link ServerMessage} (see `parseServerMessage`). */
export const serverMessageSchema = z.discriminatedUnion('type', nonEmpty(SERVER_MESSAGE_TYPES.map(serverEnvelope)));

// ---------------------------------------------------------------- client → server

/**
 * After a reconnect: replay what the socket's rooms missed after event `since`, then go live. Without `since` (a
 * client that has seen no event yet): nothing is replayed, and the `resumed` reply's `since` is the socket's position,
 * to resume from after the next reconnect.
 */
export const resumePayloadSchema = z.object({ since: z.optional(eventId) });
export type ResumePayload = z.infer<typeof resumePayloadSchema>;

/** Longest token an `auth` may carry (a JWT of this protocol is a few hundred characters). */
export const MAX_TOKEN_LENGTH = 8192;

/** A fresh access token for the open socket (in-band refresh), before the current one expires. */
export const authPayloadSchema = z.object({ token: text(MAX_TOKEN_LENGTH) });
export type AuthPayload = z.infer<typeof authPayloadSchema>;

/**
 * Who is in a room: answered with `presence {room, members}`. `watch: true` also sends `presence:joined` and
 * `presence:left` for that room from then on; `watch: false` (or none) stops them.
 */
export const presenceRequestPayloadSchema = z.object({ room: presenceRoomSchema, watch: z.optional(z.boolean()) });
export type PresenceRequestPayload = z.infer<typeof presenceRequestPayloadSchema>;

export const clientPayloadSchemas = {
  subscribe: roomPayloadSchema,
  unsubscribe: roomPayloadSchema,
  ping: z.optional(emptyPayloadSchema),
  resume: resumePayloadSchema,
  auth: authPayloadSchema,
  presence: presenceRequestPayloadSchema,
} as const;
export type ClientMessageType = keyof typeof clientPayloadSchemas;
export const CLIENT_MESSAGE_TYPES = typesOf(clientPayloadSchemas);

const clientEnvelope = <K extends ClientMessageType>(type: K) =>
  z.object({
    type: z.literal(type),
    payload: clientPayloadSchemas[type],
    timestamp: z.optional(timestamp),
    correlationId: z.optional(correlationId),
  });

/** A client message; `ClientMessage<'subscribe'>` narrows to one type. */
export type ClientMessage<K extends ClientMessageType = ClientMessageType> = {
  [T in K]: z.infer<ReturnType<typeof clientEnvelope<T>>>;
}[K];

export const subscribeMessageSchema = clientEnvelope('subscribe');
export const unsubscribeMessageSchema = clientEnvelope('unsubscribe');
export const pingMessageSchema = clientEnvelope('ping');
export const resumeMessageSchema = clientEnvelope('resume');
export const authMessageSchema = clientEnvelope('auth');
export const presenceMessageSchema = clientEnvelope('presence');

/** Validates every client message; its output is a {@link ClientMessage} (see `parseClientMessage`). */
export const clientMessageSchema = z.discriminatedUnion('type', nonEmpty(CLIENT_MESSAGE_TYPES.map(clientEnvelope)));

// ---------------------------------------------------------------- publishing (HTTP API)

const publishRequest = <K extends RoomEventType>(type: K) =>
  z.object({
    room: roomSchema,
    type: z.literal(type),
    payload: roomEventPayloadSchemas[type],
    correlationId: z.optional(correlationId),
  });

/** Body of `POST /api/events`. */
export type PublishRequest<K extends RoomEventType = RoomEventType> = {
  [T in K]: z.infer<ReturnType<typeof publishRequest<T>>>;
}[K];

/** Validates a `POST /api/events` body; its output is a {@link PublishRequest} (see `parsePublishRequest`). */
export const publishRequestSchema = z.discriminatedUnion('type', nonEmpty(ROOM_EVENT_TYPES.map(publishRequest)));
