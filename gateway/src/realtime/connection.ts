/**
 * One authenticated socket and everything the gateway keeps about it, on one object.
 *
 * `GatewaySocket` is the `ws` socket class the server creates (its `WebSocket` option), so
 * listeners shared by every socket reach the connection through `this.connection`
 * instead of allocating closures per socket.
 */
import { WebSocket, type RawData } from 'ws';
import type { Room } from '@payments-system/protocol';
import type { Claims } from '../auth/tokens.ts';
import type { Logger } from '../logger.ts';

/** What a connection's socket events are routed to (the hub that accepted it). */
export interface ConnectionOwner {
  readonly logger: Logger;
  handleFrame(connection: Connection, data: RawData, isBinary: boolean): void;
  release(connection: Connection, code: number): void;
}

export class GatewaySocket extends WebSocket {
  /** Set right after the upgrade, before any event can fire. */
  connection!: Connection;
}

export class Connection {
  readonly rooms = new Set<Room>();
  /** Cleared when a heartbeat ping goes out; set again by a pong or any message. */
  alive = true;
  /** Token bucket of the rate limit: messages this socket may still send now. */
  allowance: number;
  lastRefillAt: number;
  /** Second (epoch) whose expiry bucket holds this connection. */
  readonly expiresAtSecond: number;
  released = false;

  constructor(
    readonly owner: ConnectionOwner,
    readonly id: string,
    readonly socket: GatewaySocket,
    readonly claims: Claims,
    burst: number,
    now: number,
  ) {
    this.allowance = burst;
    this.lastRefillAt = now;
    this.expiresAtSecond = claims.exp;
  }
}
