/**
 * Who may join which room. Admins may join any room; everyone else only rooms about
 * themselves (their user and role rooms), the broadcast room and payments they are allowed to see.
 */
import { parseRoom, type Room } from '@payments-system/protocol';
import type { Claims } from './tokens.ts';

/** Answers whether a user may watch a payment; the payments domain provides it. */
export type PaymentAccess = (claims: Claims, paymentId: string) => boolean;

export const noPaymentAccess: PaymentAccess = () => false;

export function canJoin(claims: Claims, room: Room, paymentAccess: PaymentAccess): boolean {
  if (claims.role === 'ADMIN') return true;
  const parsed = parseRoom(room);
  switch (parsed?.kind) {
    case 'broadcast':
      return true;
    case 'user':
      return parsed.userId === claims.userId;
    case 'role':
      return parsed.role === claims.role;
    case 'payment':
      return paymentAccess(claims, parsed.paymentId);
    default:
      return false;
  }
}
