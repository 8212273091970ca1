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
import { fullBucket, type RateLimit, type TokenBucket } from './rate-limit.ts';

/** What a connection's socket events are routed to (the hub that accepted it). */
export interface ConnectionOwner {
  readonly logger: Logger;
  handleFrame(connection: Connection, data: RawData, isBinary: boolean): void;
  release(connection: Connection, code: number): void;
}

/** The budgets of one socket: its messages, and its `resume` requests. */
export interface ConnectionLimits {
  readonly messages: RateLimit;
  readonly resumes: RateLimit;
}

export class GatewaySocket extends WebSocket {
  /** Set right after the upgrade, before any event can fire. */
  connection!: Connection;
}

export class Connection {
  readonly rooms = new Set<Room>();
  /**
   * Cleared when a heartbeat ping goes out; set again by a pong only. A message does not count:
   * a client that writes but never reads would otherwise stay alive with an ever-full backlog.
   */
  alive = true;
  readonly messages: TokenBucket;
  readonly resumes: TokenBucket;
  /** Second (epoch) whose expiry bucket holds this connection. */
  readonly expiresAtSecond: number;
  released = false;

  constructor(
    readonly owner: ConnectionOwner,
    readonly id: string,
    readonly socket: GatewaySocket,
    readonly claims: Claims,
    limits: ConnectionLimits,
    now: number,
  ) {
    this.messages = fullBucket(limits.messages, now);
    this.resumes = fullBucket(limits.resumes, now);
    this.expiresAtSecond = claims.exp;
  }
}
