/** Every open connection, with per-role and per-user counts kept exact on add and remove. */
import type { Role } from '@payments-system/protocol';
import type { Connection } from './connection.ts';

export class ConnectionRegistry implements Iterable<Connection> {
  private readonly connections = new Set<Connection>();
  private readonly byRole = new Map<Role, number>();
  private readonly byUser = new Map<string, number>();

  get size(): number {
    return this.connections.size;
  }

  add(connection: Connection): void {
    this.connections.add(connection);
    increment(this.byRole, connection.claims.role);
    increment(this.byUser, connection.claims.userId);
  }

  remove(connection: Connection): boolean {
    if (!this.connections.delete(connection)) return false;
    decrement(this.byRole, connection.claims.role);
    decrement(this.byUser, connection.claims.userId);
    return true;
  }

  countByRole(): ReadonlyMap<Role, number> {
    return this.byRole;
  }

  countOfUser(userId: string): number {
    return this.byUser.get(userId) ?? 0;
  }

  [Symbol.iterator](): Iterator<Connection> {
    return this.connections[Symbol.iterator]();
  }
}

function increment<K>(counts: Map<K, number>, key: K): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** Drops a key whose count reaches 0, so the map never holds more keys than there are connections. */
function decrement<K>(counts: Map<K, number>, key: K): void {
  const remaining = (counts.get(key) ?? 1) - 1;
  if (remaining === 0) counts.delete(key);
  else counts.set(key, remaining);
}
