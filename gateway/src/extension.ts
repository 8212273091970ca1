/**
 * What an embedder plugs into the gateway core: the parts that belong to other services.
 * The core authenticates sockets, authorizes the rooms a token alone decides, delivers and
 * replays room events, and serves /api/health, /api/ready, /api/events and /metrics. Everything
 * else comes in through one `GatewayExtension` (startGateway's `extension` option): the payments
 * demo is one (demo/extension.ts); an identity provider's revocation list or a payments service's
 * room rule would be another. docs/architecture.md, "Embedding", shows both.
 */
import type { KeyObject } from 'node:crypto';
import type { PublishRequest, Room, RoomEvent } from '@payments-system/protocol';
import type { RoomAccessRules } from './auth/room-policy.ts';
import type { TokenVerifier } from './auth/tokens.ts';
import type { GatewayConfig } from './config.ts';
import type { MountableRouter } from './http/app.ts';
import type { Logger } from './logger.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { ConnectionOptions, RedisConnection } from './redis/connection.ts';

export interface GatewayExtension {
  /** Koa routers mounted after the core's routes (and before the static app). */
  readonly routes?: readonly MountableRouter[];
  /** Who may join the room kinds a token alone cannot decide; without a rule, admins only. */
  readonly roomAccess?: RoomAccessRules;
  /**
   * Whether the login session a token names (`sid`) has ended: its handshakes and API calls get
   * 401. Without it, a token is valid until it expires.
   */
  readonly isSessionRevoked?: (sessionId: string) => boolean | Promise<boolean>;
  /** Called for every event the bus delivers, after the sockets here were sent it. Must not throw. */
  readonly onEvent?: (room: Room, event: RoomEvent) => void;
  /** Called once when the gateway closes, after its sockets and before its bus. */
  close?(): Promise<void>;
}

/** The core's services an extension may use. */
export interface GatewayServices {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** Checks bearer tokens (the revocation check included): `requireBearer(verifier, metrics)` guards a route. */
  readonly verifier: TokenVerifier;
  /** The HS256 key, for an extension that issues tokens. */
  readonly key: KeyObject;
  /** Publishes a room event on the bus (every gateway delivers it). */
  publish(request: PublishRequest): Promise<string>;
  /**
   * Makes a connection to the gateway's Redis (its URL or Sentinels, its replicas' acknowledgement),
   * reporting to its metrics; undefined when the gateway runs without Redis.
   */
  readonly connectRedis: ((options: ConnectionOptions) => RedisConnection) | undefined;
}

/** Builds an extension once the core's services exist (its routes need the verifier, say). */
export type GatewayExtensionFactory = (services: GatewayServices) => GatewayExtension | Promise<GatewayExtension>;
