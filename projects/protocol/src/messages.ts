/**
 * Every message on the wire, as zod schemas (the single source of truth) and the types
 * inferred from them. `zod/mini` keeps the browser bundle small.
 */
import * as z from 'zod/mini';
import { ERROR_CODES } from './error-codes.js';
import { EVENT_ID_PATTERN } from './event-ids.js';
import { ID_PATTERN, isRoom, MAX_ROOM_LENGTH, type Room } from './rooms.js';

const id = z.string().check(z.regex(ID_PATTERN, 'must be 1-128 characters of A-Z a-z 0-9 _ . @ -'));
const timestamp = z.iso.datetime({ offset: true });
const correlationId = z.string().check(z.minLength(1), z.maxLength(128));
const text = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));
const eventId = z.string().check(z.regex(EVENT_ID_PATTERN, 'must be an event id such as "1765447200000-0"'));

export const roomSchema = z.custom<Room>(
  (value) => typeof value === 'string' && value.length <= MAX_ROOM_LENGTH && isRoom(value),
  { error: 'must be a room name: broadcast, user:<id>, role:<ADMIN|CUSTOMER|VENDOR> or payment:<id>' },
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

/** Room events: published to a room (POST /api/events or the gateway's own domain), carry an `id`. */
export const roomEventPayloadSchemas = {
  'payment:updated': paymentUpdatedPayloadSchema,
  'session:sync': sessionSyncPayloadSchema,
  'notification:new': notificationPayloadSchema,
  'system:broadcast': systemBroadcastPayloadSchema,
} as const;
export type RoomEventType = keyof typeof roomEventPayloadSchemas;
export const ROOM_EVENT_TYPES = Object.keys(roomEventPayloadSchemas) as RoomEventType[];

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

export const replyPayloadSchemas = {
  pong: emptyPayloadSchema,
  subscribed: roomPayloadSchema,
  unsubscribed: roomPayloadSchema,
  error: errorPayloadSchema,
  resumed: resumedPayloadSchema,
  'recovery:failed': recoveryFailedPayloadSchema,
} as const;
export type ReplyType = keyof typeof replyPayloadSchemas;

// ---------------------------------------------------------------- server → client envelope

export const serverPayloadSchemas = { ...roomEventPayloadSchemas, ...replyPayloadSchemas } as const;

/** Payload type of each server message type. */
export type ServerPayloads = { [K in keyof typeof serverPayloadSchemas]: z.infer<(typeof serverPayloadSchemas)[K]> };
export type ServerMessageType = keyof ServerPayloads;

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

const serverEnvelope = <K extends ServerMessageType>(type: K) =>
  z.object({
    type: z.literal(type),
    payload: serverPayloadSchemas[type],
    timestamp: timestamp,
    correlationId: z.optional(correlationId),
    id: z.optional(eventId),
    room: z.optional(roomSchema),
  });

export const serverMessageSchema = z.discriminatedUnion('type', [
  serverEnvelope('payment:updated'),
  serverEnvelope('session:sync'),
  serverEnvelope('notification:new'),
  serverEnvelope('system:broadcast'),
  serverEnvelope('pong'),
  serverEnvelope('subscribed'),
  serverEnvelope('unsubscribed'),
  serverEnvelope('error'),
  serverEnvelope('resumed'),
  serverEnvelope('recovery:failed'),
]);

// ---------------------------------------------------------------- client → server

const clientEnvelope = {
  timestamp: z.optional(timestamp),
  correlationId: z.optional(correlationId),
};

export const subscribeMessageSchema = z.object({
  type: z.literal('subscribe'),
  payload: roomPayloadSchema,
  ...clientEnvelope,
});
export const unsubscribeMessageSchema = z.object({
  type: z.literal('unsubscribe'),
  payload: roomPayloadSchema,
  ...clientEnvelope,
});
export const pingMessageSchema = z.object({
  type: z.literal('ping'),
  payload: z.optional(emptyPayloadSchema),
  ...clientEnvelope,
});

/** After a reconnect: replay what the socket's rooms missed after event `since`, then go live. */
export const resumeMessageSchema = z.object({
  type: z.literal('resume'),
  payload: z.object({ since: eventId }),
  ...clientEnvelope,
});

export const clientMessageSchema = z.discriminatedUnion('type', [
  subscribeMessageSchema,
  unsubscribeMessageSchema,
  pingMessageSchema,
  resumeMessageSchema,
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;
export type ClientMessageType = ClientMessage['type'];
export const CLIENT_MESSAGE_TYPES: readonly ClientMessageType[] = ['subscribe', 'unsubscribe', 'ping', 'resume'];

// ---------------------------------------------------------------- publishing (HTTP API)

const publishRequest = <K extends RoomEventType>(type: K) =>
  z.object({
    room: roomSchema,
    type: z.literal(type),
    payload: roomEventPayloadSchemas[type],
    correlationId: z.optional(correlationId),
  });

/** Body of `POST /api/events`. */
export const publishRequestSchema = z.discriminatedUnion('type', [
  publishRequest('payment:updated'),
  publishRequest('session:sync'),
  publishRequest('notification:new'),
  publishRequest('system:broadcast'),
]);
export type PublishRequest = z.infer<typeof publishRequestSchema>;
