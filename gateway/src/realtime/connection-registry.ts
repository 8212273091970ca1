/** Every open connection, with per-role counts kept exact on add and remove. */
import type { Role } from '@payments-system/protocol';
import type { Connection } from './connection.ts';

export class ConnectionRegistry implements Iterable<Connection> {
  private readonly connections = new Set<Connection>();
  private readonly byRole = new Map<Role, number>();

  get size(): number {
    return this.connections.size;
  }

  add(connection: Connection): void {
    this.connections.add(connection);
    this.byRole.set(connection.claims.role, (this.byRole.get(connection.claims.role) ?? 0) + 1);
  }

  remove(connection: Connection): boolean {
    if (!this.connections.delete(connection)) return false;
    const remaining = (this.byRole.get(connection.claims.role) ?? 1) - 1;
    if (remaining === 0) this.byRole.delete(connection.claims.role);
    else this.byRole.set(connection.claims.role, remaining);
    return true;
  }

  countByRole(): ReadonlyMap<Role, number> {
    return this.byRole;
  }

  [Symbol.iterator](): Iterator<Connection> {
    return this.connections[Symbol.iterator]();
  }
}
