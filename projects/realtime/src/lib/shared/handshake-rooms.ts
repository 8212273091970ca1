import { BROADCAST_ROOM, isRole, isRoom, roleRoom, userRoom, type Room } from '@payments-system/protocol';
import { jwtClaims } from '../connection/jwt';

/**
 * The rooms the gateway puts a socket in at its handshake (`user:<userId>`, `role:<role>`, `broadcast`), read from
 * the token's claims. Every member of a group has them: their events go to every tab, and no tab's `unsubscribe`
 * takes the shared socket out of them.
 */
export function handshakeRooms(token: string | null): ReadonlySet<Room> {
  const rooms = new Set<Room>([BROADCAST_ROOM]);
  const claims = token ? jwtClaims(token) : null;
  const user = claims?.['userId'] ?? claims?.['sub'];
  if (typeof user === 'string' && isRoom(userRoom(user))) rooms.add(userRoom(user));
  const role = claims?.['role'];
  if (isRole(role)) rooms.add(roleRoom(role));
  return rooms;
}
