/**
 * Presence for one process (no `REDIS_URL`): this gateway's members are all the members there are,
 * and a change is told to the watchers in the same turn as the socket that made it.
 */
import type { PresenceMember, PresenceRoom, Role } from '@payments-system/protocol';
import type { LocalMembers, PresenceListener, PresenceStore } from './presence-store.ts';

export class InMemoryPresenceStore implements PresenceStore {
  private listener: PresenceListener | undefined;
  private local: LocalMembers | undefined;

  async start(listener: PresenceListener, local: LocalMembers): Promise<void> {
    this.listener = listener;
    this.local = local;
  }

  changed(room: PresenceRoom, userId: string, role: Role, before: number, after: number): void {
    if (before === 0 && after > 0) this.listener?.change({ change: 'joined', room, userId, role });
    else if (before > 0 && after === 0) this.listener?.change({ change: 'left', room, userId });
  }

  members(room: PresenceRoom): readonly PresenceMember[] {
    return (this.local?.list(room) ?? []).map(({ userId, role, connections }) => ({ userId, role, connections }));
  }

  async close(): Promise<void> {
    this.listener = undefined;
  }
}
