/**
 * `session:sync` events with `action: logout` end every session of a user (whoever publishes them:
 * the demo's logout, or an identity provider through POST /api/events): their sockets on this
 * gateway close with 4003 once they have been sent the event.
 */
import { CloseCode, type RoomEvent } from '@payments-system/protocol';
import type { RealtimeHub } from './hub.ts';

export function closeSocketsOnLogout(hub: RealtimeHub): (event: RoomEvent) => void {
  return (event) => {
    if (event.type === 'session:sync' && event.payload.action === 'logout') hub.closeUser(event.payload.userId, CloseCode.SessionRevoked);
  };
}
