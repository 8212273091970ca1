/**
 * Room names. A room is a string with a kind prefix so that a name alone tells the
 * gateway who may join it (see docs/protocol.md, "Rooms").
 */

export const ROLES = ['ADMIN', 'CUSTOMER', 'VENDOR'] as const;
export type Role = (typeof ROLES)[number];

export type BroadcastRoom = 'broadcast';
export type UserRoom = `user:${string}`;
export type RoleRoom = `role:${Role}`;
export type PaymentRoom = `payment:${string}`;
export type Room = BroadcastRoom | UserRoom | RoleRoom | PaymentRoom;

export type ParsedRoom =
  | { readonly kind: 'broadcast' }
  | { readonly kind: 'user'; readonly userId: string }
  | { readonly kind: 'role'; readonly role: Role }
  | { readonly kind: 'payment'; readonly paymentId: string };

/** Ids inside room names (user ids, payment ids): URL- and log-safe, bounded. */
export const ID_PATTERN = /^[A-Za-z0-9_.@-]{1,128}$/;
export const MAX_ROOM_LENGTH = 136;

export const BROADCAST_ROOM: BroadcastRoom = 'broadcast';
export const userRoom = (userId: string): UserRoom => `user:${userId}`;
export const roleRoom = (role: Role): RoleRoom => `role:${role}`;
export const paymentRoom = (paymentId: string): PaymentRoom => `payment:${paymentId}`;

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Splits a room name into its kind and id; `null` for anything that is not a room. */
export function parseRoom(name: string): ParsedRoom | null {
  if (name === BROADCAST_ROOM) return { kind: 'broadcast' };
  if (name.length > MAX_ROOM_LENGTH) return null;
  const colon = name.indexOf(':');
  if (colon < 0) return null;
  const id = name.slice(colon + 1);
  switch (name.slice(0, colon)) {
    case 'user':
      return ID_PATTERN.test(id) ? { kind: 'user', userId: id } : null;
    case 'role':
      return isRole(id) ? { kind: 'role', role: id } : null;
    case 'payment':
      return ID_PATTERN.test(id) ? { kind: 'payment', paymentId: id } : null;
    default:
      return null;
  }
}

export function isRoom(value: unknown): value is Room {
  return typeof value === 'string' && parseRoom(value) !== null;
}

/**
 * Rooms whose members can be listed and watched (`presence`): a user's room (is that user online?) and a
 * payment's room (who is looking at it?). Role rooms and `broadcast` hold whole populations: not listed.
 */
export type PresenceRoom = UserRoom | PaymentRoom;
export const PRESENCE_ROOM_KINDS = ['user', 'payment'] as const satisfies readonly ParsedRoom['kind'][];

export function isPresenceRoom(value: unknown): value is PresenceRoom {
  const kind = typeof value === 'string' ? parseRoom(value)?.kind : undefined;
  return kind !== undefined && (PRESENCE_ROOM_KINDS as readonly string[]).includes(kind);
}
