/**
 * One authenticated socket and everything the gateway keeps about it, on one object.
 *
 * The realtime core (message handling, replay, heartbeat, token expiry, the broadcast loop) uses a
 * socket only through `ClientSocket`: `GatewaySocket`, the `ws` socket class the server creates
 * (its `WebSocket` option), in production, and a fake in the unit tests. The interface names the
 * fields the code already read, so it adds no call to the broadcast loop. Listeners shared by
 * every socket reach the connection through `this.connection` instead of allocating closures per
 * socket.
 */
import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { WebSocket, type RawData } from 'ws';
import type { PresenceRoom, Room } from '@payments-system/protocol';
import type { Claims } from '../auth/tokens.ts';
import type { Logger } from '../logger.ts';
import type { RateLimit, TokenBucket } from './rate-limit.ts';

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

/** What the core writes frames to: the TCP socket under a WebSocket (frame.ts says why raw writes are safe). */
export interface FrameSink {
  /** False once the queue has reached the high-water mark (then wait for 'drain'). */
  write(frame: Buffer): boolean;
  /** Bytes queued and not yet handed to the kernel. */
  readonly writableLength: number;
  readonly writableNeedDrain: boolean;
  readonly writableCorked: number;
  cork(): void;
  uncork(): void;
  once(event: 'drain', listener: () => void): unknown;
}

/** What the realtime core uses of a client socket. */
export interface ClientSocket {
  /** Set right after the upgrade, before any event can fire. */
  connection: Connection;
  /** `WebSocket.OPEN` and friends. */
  readonly readyState: number;
  /**
   * The TCP socket frames are written to; undefined before the upgrade completes and once the
   * socket is gone. `ws` keeps it as `_socket` (undocumented but stable across ws 7 and 8, and
   * what its own `bufferedAmount` reads).
   */
  readonly _socket?: FrameSink | undefined;
  /** Starts the closing handshake (see `closeWith`, the one way the core closes a socket). */
  close(code: number, reason: string): void;
  /** Destroys the socket at once, without a closing handshake. */
  terminate(): void;
}

/** A socket the hub accepts: it listens with listeners shared by every socket (`this` is the socket). */
export type AcceptedSocket = ClientSocket & EventEmitter;

export class GatewaySocket extends WebSocket implements ClientSocket {
  // Typed only: the hub sets it at the upgrade (a class field would define it once more per socket).
  declare connection: Connection;
  // Typed only: `ws` sets it.
  declare readonly _socket: Socket | undefined;
}

export class Connection {
  readonly rooms = new Set<Room>();
  /**
   * Cleared when a heartbeat ping goes out; set again by a pong only. A message does not count:
   * a client that writes but never reads would otherwise stay alive with an ever-full backlog.
   */
  alive = true;
  /**
   * The budgets of what the socket sends (its messages, its `resume` requests), made on first use
   * (`takeToken(connection.messages ??= fullBucket(...), ...)`). A new bucket is full, as one made at
   * the handshake would be by then, so this changes nothing but what an idle socket holds: most
   * sockets never resume, and a handshake allocates two objects fewer.
   */
  messages: TokenBucket | undefined;
  resumes: TokenBucket | undefined;
  /** Second (epoch) whose expiry bucket holds this connection: its token's `exp` (TokenExpiry moves it). */
  expiresAtSecond: number;
  released = false;
  /** An `auth` is being checked (a revocation check that answers later): one at a time. */
  authChecking = false;
  /**
   * Rooms whose presence the socket watches, each with the changes held while a members list is being read
   * for it (`undefined` once the socket is live for that room). Made on the first watch: most sockets never do.
   */
  watching: Map<PresenceRoom, PresenceWatch> | undefined;

  constructor(
    readonly owner: ConnectionOwner,
    readonly id: string,
    readonly socket: ClientSocket,
    /** The claims of the token the socket was accepted with, or of the last one an `auth` renewed it with. */
    public claims: Claims,
  ) {
    this.expiresAtSecond = claims.exp;
  }
}

/** A watched room of one socket: members lists still being read for it, and the changes held meanwhile. */
export interface PresenceWatch {
  pendingLists: number;
  /** A list went out for it: the watch is established, and a later list that fails does not end it. */
  listed: boolean;
  /** Frames of changes that arrived while a list was being read: sent after it, in order. */
  readonly held: Buffer[];
  /** Bytes of `held`, counted against the socket's bound (WS_MAX_BUFFERED_BYTES). */
  heldBytes: number;
}
