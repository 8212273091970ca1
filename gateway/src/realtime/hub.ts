/**
 * The realtime core: accepts authenticated sockets, keeps the registries exact, runs the
 * heartbeat and token expiry, and delivers room events. It knows nothing of HTTP or of
 * where events come from (the bus calls `deliver`).
 */
import { BROADCAST_ROOM, CloseCode, roleRoom, userRoom, type Room, type RoomEvent } from '@payments-system/protocol';
import { WebSocket, type RawData } from 'ws';
import type { Bus } from '../bus/bus.ts';
import type { RoomAccessRules } from '../auth/room-policy.ts';
import type { Claims, TokenVerifier } from '../auth/tokens.ts';
import type { GatewayConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { GatewayMetrics } from '../metrics.ts';
import type { PresenceStore } from '../presence/presence-store.ts';
import { Broadcaster, type DeliveryReport } from './broadcaster.ts';
import { closeWith } from './close.ts';
import { Connection, type AcceptedSocket, type ClientSocket, type ConnectionLimits, type ConnectionOwner } from './connection.ts';
import { ConnectionRegistry } from './connection-registry.ts';
import { Heartbeat } from './heartbeat.ts';
import { rawSocket } from './frame.ts';
import { handleClientFrame, type MessageContext } from './message-handler.ts';
import { Outbound } from './outbound.ts';
import { RoomPresence } from './presence.ts';
import { Replays } from './replay.ts';
import { reply } from './reply.ts';
import { RoomRegistry } from './room-registry.ts';
import { TokenExpiry } from './token-expiry.ts';

export interface HubStats {
  readonly connections: number;
  readonly rooms: number;
  readonly expiryTracked: number;
  readonly replaying: number;
  /** Presence rooms with members on this gateway, and (socket, room) presence watches. */
  readonly presenceRooms: number;
  readonly presenceWatches: number;
  /** Sockets closed with `HandOver` whose presence lasts until the grace period ends. */
  readonly presenceHandOvers: number;
}

/** What the hub is built on besides configuration, logs and metrics. */
export interface HubParts {
  /** Rules for the room kinds a token alone cannot decide (the embedder's). */
  readonly roomAccess: RoomAccessRules;
  readonly bus: Bus;
  /** The one token verifier: in-band `auth` is checked exactly like a handshake. */
  readonly verifier: Pick<TokenVerifier, 'authenticate'>;
  readonly presence: PresenceStore;
}

export class RealtimeHub implements ConnectionOwner {
  readonly connections = new ConnectionRegistry();
  readonly rooms = new RoomRegistry();
  readonly messageContext: MessageContext;
  /** The bounded send path every frame to a client takes. */
  readonly outbound: Outbound;
  readonly presence: RoomPresence;
  private readonly limits: ConnectionLimits;
  private readonly heartbeat: Heartbeat;
  private readonly expiry: TokenExpiry;
  private readonly broadcaster: Broadcaster;
  private readonly replays: Replays;
  private readonly closeWaiters = new Set<() => void>();
  private sequence = 0;

  constructor(
    config: GatewayConfig,
    readonly logger: Logger,
    private readonly metrics: GatewayMetrics,
    { roomAccess, bus, verifier, presence }: HubParts,
    /** The clock, in milliseconds since the epoch: rate limits and token expiry read it. */
    now: () => number = Date.now,
  ) {
    this.limits = {
      messages: { perSecond: config.rateLimitPerSecond, burst: config.rateLimitBurst },
      resumes: { perSecond: config.resumesPerMinute / 60, burst: config.resumeBurst },
    };
    this.outbound = new Outbound(config.maxBufferedBytes, (connection) => {
      const socket = connection.socket;
      if (socket.readyState !== WebSocket.OPEN) return; // already closing: counted once
      metrics.slowConsumerCloses.inc();
      logger.warn(
        { connectionId: connection.id, userId: connection.claims.userId, bufferedBytes: rawSocket(socket)?.writableLength },
        'slow consumer, closing',
      );
      closeWith(connection, CloseCode.SlowConsumer);
    });
    this.presence = new RoomPresence(presence, this.outbound, metrics, logger, {
      maxWatchesPerSocket: config.maxPresenceWatches,
      maxHandOversPerUser: config.maxSocketsPerUser,
    });
    this.messageContext = {
      limits: this.limits,
      outbound: this.outbound,
      roomAccess,
      logger,
      metrics,
      now,
      join: (connection, room) => {
        if (this.replays.roomsOf(connection).has(room)) return;
        this.replays.join(connection, room);
        this.presence.entered(connection, room);
      },
      leave: (connection, room) => {
        if (!this.replays.roomsOf(connection).has(room)) return;
        this.replays.leave(connection, room);
        this.presence.left(connection, room);
      },
      canResume: (connection) => this.replays.canResume(connection),
      position: (connection) => this.replays.positionOf(connection),
      resume: (connection, since, correlationId) => void this.resume(connection, since, correlationId),
      authenticate: (token) => verifier.authenticate(token),
      renew: (connection, claims) => this.renew(connection, claims),
      presence: this.presence,
      failed: (connection, error, what) => this.failed(connection, error, what),
    };
    this.replays = new Replays(bus, this.rooms, config.recoveryMaxEvents, this.outbound, (connection, type, payload, correlationId) => {
      if (type === 'resumed') metrics.resumes.inc({ outcome: 'resumed' });
      else if (type === 'recovery:failed' && 'reason' in payload) metrics.resumes.inc({ outcome: payload.reason });
      return reply(this.messageContext, connection, type, payload, correlationId);
    });
    this.heartbeat = new Heartbeat(
      this.connections,
      { intervalMs: config.heartbeatIntervalMs, timeoutMs: config.heartbeatTimeoutMs },
      this.outbound,
      (connection) => {
        metrics.heartbeatTerminations.inc();
        logger.info({ connectionId: connection.id, userId: connection.claims.userId }, 'heartbeat timed out, terminating');
        connection.socket.terminate();
      },
    );
    this.expiry = new TokenExpiry((connection) => {
      metrics.tokenExpiryCloses.inc();
      logger.info({ connectionId: connection.id, userId: connection.claims.userId }, 'credentials expired, closing with 4001');
      closeWith(connection, CloseCode.TokenExpired);
    }, now);
    this.broadcaster = new Broadcaster(this.rooms, this.outbound);
  }

  start(): void {
    this.heartbeat.start();
    this.expiry.start();
  }

  stop(): void {
    this.heartbeat.stop();
    this.expiry.stop();
  }

  /**
   * Registers an authenticated socket and puts it in its user, role and broadcast rooms. With
   * `since` (the handshake's `?since=`), live events are held until its `resume` is replayed.
   */
  accept(socket: AcceptedSocket, claims: Claims, since?: string): Connection {
    const connection = new Connection(this, (++this.sequence).toString(36), socket, claims);
    socket.connection = connection;
    socket.on('message', onMessage);
    socket.on('pong', onPong);
    socket.on('error', onError);
    socket.on('close', onClose);
    this.connections.add(connection);
    const own = userRoom(claims.userId); // one string for both indexes
    this.rooms.join(connection, own);
    this.rooms.join(connection, roleRoom(claims.role));
    this.rooms.join(connection, BROADCAST_ROOM);
    this.presence.enteredPresenceRoom(connection, own);
    if (since !== undefined) this.replays.hold(connection, since);
    this.expiry.track(connection);
    this.metrics.connectionsOpened.inc();
    this.logger.debug({ connectionId: connection.id, userId: claims.userId, role: claims.role }, 'socket connected');
    return connection;
  }

  deliver(room: Room, event: RoomEvent): DeliveryReport {
    const started = performance.now();
    const report = this.broadcaster.deliver(room, event);
    const seconds = (performance.now() - started) / 1000;
    this.metrics.broadcastFanout.observe(report.delivered);
    this.metrics.broadcastDuration.observe(seconds);
    this.metrics.messagesSent.inc({ type: event.type }, report.delivered);
    this.replays.observe(room, event);
    this.logger.info(
      { eventId: event.id, room, type: event.type, correlationId: event.correlationId, delivered: report.delivered, ms: seconds * 1000 },
      'event delivered',
    );
    return report;
  }

  /** Total: whatever a frame makes go wrong closes that socket (1011), never the process. */
  handleFrame(connection: Connection, data: RawData, isBinary: boolean): void {
    try {
      handleClientFrame(this.messageContext, connection, data, isBinary);
    } catch (error) {
      this.failed(connection, error, 'message handler failed');
    }
  }

  /** A handler threw for this connection: log it, count it, close the socket with 1011. */
  failed(connection: Connection, error: unknown, what: string): void {
    this.metrics.internalErrors.inc({ source: 'message' });
    this.logger.error({ err: error, connectionId: connection.id, userId: connection.claims.userId }, what);
    if (connection.socket.readyState === WebSocket.OPEN) closeWith(connection, CloseCode.InternalError);
  }

  private async resume(connection: Connection, since: string, correlationId: string | undefined): Promise<void> {
    try {
      await this.replays.start(connection, since, correlationId);
    } catch (error) {
      this.logger.error({ err: error, connectionId: connection.id }, 'resume failed');
      closeWith(connection, CloseCode.InternalError);
    }
  }

  /**
   * An `auth` renewed the socket's token (same user, role and session): new claims, and the 4001
   * deadline moves to their `exp`. False when the socket is closing or gone, or its 4001 fired.
   */
  private renew(connection: Connection, claims: Claims): boolean {
    if (connection.released || connection.socket.readyState !== WebSocket.OPEN) return false;
    if (!this.expiry.move(connection, claims.exp)) return false;
    connection.claims = claims;
    return true;
  }

  /** Open sockets of one user on this gateway (WS_MAX_SOCKETS_PER_USER bounds it). */
  socketsOf(userId: string): number {
    return this.connections.countOfUser(userId);
  }

  /** Closes every socket of one user on this gateway (after a logout). */
  closeUser(userId: string, code: CloseCode): void {
    // All connections, not the user's room: a socket may have unsubscribed from it. Logouts are rare.
    for (const connection of this.connections) {
      if (connection.claims.userId === userId) closeWith(connection, code);
    }
  }

  /** Removes every trace of a closed connection. Idempotent. */
  release(connection: Connection, code: number): void {
    if (connection.released) return;
    connection.released = true;
    this.connections.remove(connection);
    this.presence.released(connection);
    if (code === CloseCode.HandOver) this.presence.handedOver(connection, [...this.replays.roomsOf(connection)]);
    else for (const room of this.replays.roomsOf(connection)) this.presence.left(connection, room);
    this.rooms.leaveAll(connection);
    this.replays.release(connection);
    this.expiry.untrack(connection);
    this.metrics.connectionsClosed.inc({ code: String(code) });
    this.logger.debug({ connectionId: connection.id, userId: connection.claims.userId, code }, 'socket closed');
    if (this.connections.size === 0) for (const wake of this.closeWaiters) wake();
  }

  /** Closes every socket with `code`; terminates those still open after `timeoutMs`. */
  async closeAll(code: CloseCode, timeoutMs: number): Promise<void> {
    if (this.connections.size === 0) return;
    for (const connection of this.connections) closeWith(connection, code);
    let wake!: () => void;
    const allClosed = new Promise<void>((resolve) => (wake = resolve));
    this.closeWaiters.add(wake);
    const timer = setTimeout(() => {
      for (const connection of this.connections) connection.socket.terminate();
    }, timeoutMs);
    try {
      await allClosed;
    } finally {
      clearTimeout(timer);
      this.closeWaiters.delete(wake);
    }
  }

  stats(): HubStats {
    return {
      connections: this.connections.size,
      rooms: this.rooms.size,
      expiryTracked: this.expiry.size,
      replaying: this.replays.size,
      presenceRooms: this.presence.local.size,
      presenceWatches: this.presence.watchCount,
      presenceHandOvers: this.presence.handOverCount,
    };
  }
}

// Listeners shared by every socket: `this` is the socket, its connection leads to the rest.
// (`ws` types `this` as its base class; the server only ever creates GatewaySockets.)
function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  const { connection } = this as unknown as ClientSocket;
  connection.owner.handleFrame(connection, data, isBinary);
}

function onPong(this: WebSocket): void {
  (this as unknown as ClientSocket).connection.alive = true;
}

function onError(this: WebSocket, error: Error): void {
  // `ws` closes the socket itself after an error (bad frame, too big); the close handler cleans up.
  const { connection } = this as unknown as ClientSocket;
  connection.owner.logger.debug({ connectionId: connection.id, err: error.message }, 'socket error');
}

function onClose(this: WebSocket, code: number): void {
  const { connection } = this as unknown as ClientSocket;
  connection.owner.release(connection, code);
}
