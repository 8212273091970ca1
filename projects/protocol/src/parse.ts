/**
 * Parsers that never throw: bad input becomes a result with a message that names the field,
 * suitable for an `error` reply or a protocol error on the client.
 */
import * as z from 'zod/mini';
// The English messages alone: `z.locales.en` would keep every locale in a browser bundle (264 kB minified).
import en from 'zod/v4/locales/en.js';
import {
  CLIENT_MESSAGE_TYPES,
  clientMessageSchema,
  publishRequestSchema,
  ROOM_EVENT_TYPES,
  SERVER_MESSAGE_TYPES,
  serverMessageSchema,
  type ClientMessage,
  type PublishRequest,
  type ServerMessage,
} from './messages.js';

export type ParseResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

// Passed per call rather than set with z.config(), so importing the protocol changes nothing global.
const english = en().localeError;

function describe(error: z.core.$ZodError, knownTypes: readonly string[]): string {
  return error.issues
    .map((issue) => {
      if (issue.code === 'invalid_union' && issue.path.length === 1 && issue.path[0] === 'type') {
        return `type: unknown message type; expected one of ${knownTypes.join(', ')}`;
      }
      const path = issue.path.map(String).join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

function validate<T>(schema: z.ZodMiniType<T>, value: unknown, knownTypes: readonly string[]): ParseResult<T> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: 'message must be a JSON object' };
  }
  const result = schema.safeParse(value, { error: english });
  return result.success ? { ok: true, value: result.data } : { ok: false, error: describe(result.error, knownTypes) };
}

function parseJson(text: string): ParseResult<unknown> {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, error: 'invalid JSON' };
  }
}

/** Parses and validates a client → server frame (text). */
export function parseClientMessage(text: string): ParseResult<ClientMessage> {
  const json = parseJson(text);
  return json.ok ? validate(clientMessageSchema as z.ZodMiniType<ClientMessage>, json.value, CLIENT_MESSAGE_TYPES) : json;
}

/** Parses and validates a server → client frame (text). */
export function parseServerMessage(text: string): ParseResult<ServerMessage> {
  const json = parseJson(text);
  return json.ok ? validate(serverMessageSchema as z.ZodMiniType<ServerMessage>, json.value, SERVER_MESSAGE_TYPES) : json;
}

/** Validates an already-parsed `POST /api/events` body. */
export function parsePublishRequest(body: unknown): ParseResult<PublishRequest> {
  return validate(publishRequestSchema as z.ZodMiniType<PublishRequest>, body, ROOM_EVENT_TYPES);
}
