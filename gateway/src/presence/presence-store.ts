/**
 * Where presence lives beyond one gateway: which users have sockets in which presence rooms, on
 * every gateway, and the changes (a user's first socket in, their last one out) that watchers are
 * told about. Two implementations behind one interface, chosen by configuration like the bus: the
 * in-memory store (one process) and the Redis store (`REDIS_URL`).
 *
 * Presence is ephemeral by design: changes are never room events, never on the bus and never
 * replayed. A client that was away asks for the members again.
 */
import type { PresenceMember, PresenceRoom, Role } from '@payments-system/protocol';

export type PresenceChange =
  | { readonly change: 'joined'; readonly room: PresenceRoom; readonly userId: string; readonly role: Role }
  | { readonly change: 'left'; readonly room: PresenceRoom; readonly userId: string };

/** What a store tells the gateway. */
export interface PresenceListener {
  /** A user's first socket entered a room, or their last one left it, on any gateway (this one included). */
  change(change: PresenceChange): void;
  /** Changes may have been missed (the store's subscription was interrupted): every watcher needs the members again. */
  lost(): void;
}

/** This gateway's members of a presence room. */
export interface LocalMember {
  readonly userId: string;
  readonly role: Role;
  /** Sockets of the user in the room, on this gateway (at least 1). */
  readonly connections: number;
}

/** The store's view of this gateway's members (kept by the hub). */
export interface LocalMembers {
  list(room: PresenceRoom): readonly LocalMember[];
  rooms(): Iterable<PresenceRoom>;
}

export interface PresenceStore {
  /** Starts; `local` is this gateway's side, read whenever the store needs it. */
  start(listener: PresenceListener, local: LocalMembers): Promise<void>;
  /** The sockets of `userId` in `room` on this gateway went from `before` to `after`. */
  changed(room: PresenceRoom, userId: string, role: Role, before: number, after: number): void;
  /** Users with at least one socket in `room` on any gateway; rejects when the store cannot answer now. */
  members(room: PresenceRoom): readonly PresenceMember[] | Promise<readonly PresenceMember[]>;
  /** Leaves: this gateway's members leave every room, as when its sockets close. */
  close(): Promise<void>;
}
