/**
 * This gateway's members of the presence rooms (`user:` and `payment:` rooms): per room, the users
 * with sockets in it here and how many. A room's entry goes with its last member, so the map never
 * holds more rooms than have members.
 *
 * Almost every presence room here is a user's own room with that user alone in it: such a room keeps
 * its one member as is, and only a room with several users gets a map (one idle connection would
 * otherwise carry a Map of its own, ~5 % of its memory).
 */
import type { PresenceRoom, Role } from '@payments-system/protocol';
import type { LocalMember, LocalMembers } from './presence-store.ts';

interface Member {
  readonly userId: string;
  readonly role: Role;
  connections: number;
}

type Members = Member | Map<string, Member>;

export class LocalPresence implements LocalMembers {
  private readonly members = new Map<PresenceRoom, Members>();

  /** Rooms with at least one member here. */
  get size(): number {
    return this.members.size;
  }

  /** One more socket of `userId` in `room`; returns how many it had there before. */
  add(room: PresenceRoom, userId: string, role: Role): number {
    const members = this.members.get(room);
    if (members === undefined) {
      this.members.set(room, { userId, role, connections: 1 });
      return 0;
    }
    if (members instanceof Map) {
      const member = members.get(userId);
      if (member) return member.connections++;
      members.set(userId, { userId, role, connections: 1 });
      return 0;
    }
    if (members.userId === userId) return members.connections++;
    this.members.set(room, new Map([[members.userId, members], [userId, { userId, role, connections: 1 }]]));
    return 0;
  }

  /** One socket of `userId` less in `room`; returns how many it had there before (0: none, nothing changed). */
  remove(room: PresenceRoom, userId: string): number {
    const members = this.members.get(room);
    if (members === undefined) return 0;
    if (!(members instanceof Map)) {
      if (members.userId !== userId) return 0;
      if (--members.connections === 0) this.members.delete(room);
      return members.connections + 1;
    }
    const member = members.get(userId);
    if (member === undefined) return 0;
    if (--member.connections === 0) {
      members.delete(userId);
      if (members.size === 1) this.members.set(room, members.values().next().value as Member);
    }
    return member.connections + 1;
  }

  list(room: PresenceRoom): readonly LocalMember[] {
    const members = this.members.get(room);
    if (members === undefined) return [];
    return members instanceof Map ? [...members.values()] : [members];
  }

  rooms(): Iterable<PresenceRoom> {
    return this.members.keys();
  }
}
