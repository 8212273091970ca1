/**
 * Who may join which room. Admins may join any room; everyone else only rooms about themselves
 * (their user and role rooms) and the broadcast room, which the token alone decides, and the rooms
 * of kinds whose membership lives in another service (payments), which the gateway's embedder
 * decides through `RoomAccessRules` (the demo gives one: docs/architecture.md, "Embedding").
 */
import { assertNever, parseRoom, type Room } from '@payments-system/protocol';
import type { Claims } from './tokens.ts';

/** Rules for the room kinds a token alone cannot decide; a kind without a rule admits admins only. */
export interface RoomAccessRules {
  /** Whether a (non-admin) user may watch `payment:<paymentId>`. Runs on every subscribe: answer from memory. */
  readonly payment?: (claims: Claims, paymentId: string) => boolean;
}

export function canJoin(claims: Claims, room: Room, rules: RoomAccessRules): boolean {
  if (claims.role === 'ADMIN') return true;
  const parsed = parseRoom(room);
  if (parsed === null) return false;
  switch (parsed.kind) {
    case 'broadcast':
      return true;
    case 'user':
      return parsed.userId === claims.userId;
    case 'role':
      return parsed.role === claims.role;
    case 'payment':
      return rules.payment?.(claims, parsed.paymentId) ?? false;
    default:
      return assertNever(parsed, 'room kind');
  }
}
