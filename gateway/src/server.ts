/**
 * Wires the gateway: one `http.Server` running the Koa app, with the `ws` server mounted
 * on its `upgrade` event. Also the programmatic entry point for tests and embedding: the core
 * alone, or with an extension (extension.ts; the demo is one).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type ServerOptions } from 'ws';
import { CloseCode, type PublishRequest, WS_PATH } from '@payments-system/protocol';
import { selectSubprotocol } from './auth/handshake.ts';
import { secretKey, TokenVerifier } from './auth/tokens.ts';
import type { Bus } from './bus/bus.ts';
import { InMemoryBus } from './bus/in-memory-bus.ts';
import { RedisBus } from './bus/redis-bus.ts';
import { RedisConnection, redisSettingsOf, type ConnectionEvents, type ConnectionOptions } from './redis/connection.ts';
import { defaultConfig, type GatewayConfig } from './config.ts';
import type { GatewayExtension, GatewayExtensionFactory } from './extension.ts';
import { createHttpApp } from './http/app.ts';
import { answerClientErrors } from './http/client-errors.ts';
import { eventRoutes } from './http/routes/events.ts';
import { handshakeCheckRoutes } from './http/routes/handshake-check.ts';
import { healthRoutes } from './http/routes/health.ts';
import { metricsRoutes } from './http/routes/metrics.ts';
import { createLogger, type Logger } from './logger.ts';
import { GatewayMetrics } from './metrics.ts';
import { InMemoryPresenceStore } from './presence/in-memory-presence-store.ts';
import type { PresenceStore } from './presence/presence-store.ts';
import { RedisPresenceStore } from './presence/redis-presence-store.ts';
import { GatewaySocket } from './realtime/connection.ts';
import { RealtimeHub, type HubStats } from './realtime/hub.ts';
import { closeSocketsOnLogout } from './realtime/session-sync.ts';
import { createUpgradeHandler, refuseMalformedHandshake } from './realtime/upgrade.ts';

export interface GatewayOptions extends Partial<GatewayConfig> {
  readonly jwtSecret: string;
  /** Defaults to a pino logger at `logLevel`. */
  readonly logger?: Logger;
  /** Defaults to the in-memory bus. */
  readonly bus?: Bus;
  /** Defaults to the in-memory presence store, or Redis with `redisUrl` or `redisSentinels` (like the bus). */
  readonly presence?: PresenceStore;
  /** Routes, room rules, a revocation check and event hooks of other services (extension.ts). */
  readonly extension?: GatewayExtension | GatewayExtensionFactory;
  /**
   * The clock, in milliseconds since the epoch: token checks, token expiry and rate limits read it.
   * Defaults to `Date.now`; tests move it to expire a token without waiting for it.
   */
  readonly now?: () => number;
}

export interface Gateway {
  readonly config: GatewayConfig;
  /** `http://host:port`, with a loopback host when bound to every interface. */
  readonly url: string;
  readonly wsUrl: string;
  readonly port: number;
  readonly logger: Logger;
  readonly hub: RealtimeHub;
  readonly metrics: GatewayMetrics;
  readonly server: Server;
  publish(request: PublishRequest): Promise<string>;
  stats(): HubStats;
  /** Stops accepting, closes every socket with 1001, then stops the server. Idempotent. */
  close(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { logger: givenLogger, bus: givenBus, presence: givenPresence, extension: givenExtension, now = Date.now, ...overrides } = options;
  const config = defaultConfig(overrides);
  const logger = givenLogger ?? createLogger(config.logLevel);
  const retention = {
    count: config.busRetentionCount,
    // A resume that needs more of one room than its limit fails with too-many: keeping more is waste.
    roomCount: config.recoveryMaxEvents + 1,
    ageMs: config.busRetentionMs,
    bytes: config.busRetentionBytes,
  };
  const metrics = new GatewayMetrics(() => hub.connections.countByRole());
  const redis = redisSettingsOf(config);
  // What every Redis connection of this gateway reports to the metrics.
  const redisEvents: ConnectionEvents = {
    primaryChanged: (address) => metrics.primaryIs(address),
    notReplicated: () => metrics.redisWaitTimeouts.inc(),
  };
  const bus =
    givenBus ?? (redis ? new RedisBus({ redis, retention, logger, events: redisEvents }) : new InMemoryBus(retention));
  const publish = (request: PublishRequest) => bus.publish(request);
  // The one way an extension reaches the same Redis, reporting to the same metrics.
  const connectRedis = redis && ((options: ConnectionOptions) => new RedisConnection(redis, options, redisEvents));
  const key = secretKey(config.jwtSecret);
  // The extension is built with the verifier (its routes check tokens) and answers its revocation check.
  let extension: GatewayExtension = {};
  const verifier = new TokenVerifier(key, {
    isSessionRevoked: (sessionId) => extension.isSessionRevoked?.(sessionId) ?? false,
    maxTtlSeconds: config.jwtMaxTtlSeconds,
    clockSkewSeconds: config.jwtClockSkewSeconds,
    nowSeconds: () => Math.floor(now() / 1000),
  });
  extension =
    typeof givenExtension === 'function'
      ? await givenExtension({ config, logger, metrics, verifier, key, publish, connectRedis })
      : (givenExtension ?? {});
  // A gateway silent for as long as a socket may be is dead: its members leave on the others.
  const presence =
    givenPresence ??
    (redis
      ? new RedisPresenceStore({ redis, events: redisEvents, logger, metrics, deadAfterMs: config.heartbeatIntervalMs + config.heartbeatTimeoutMs })
      : new InMemoryPresenceStore());
  const hub: RealtimeHub = new RealtimeHub(config, logger, metrics, { roomAccess: extension.roomAccess ?? {}, bus, verifier, presence }, now);
  let draining = false;
  const isDraining = () => draining;

  const app = createHttpApp({
    logger,
    metrics,
    maxBodyBytes: config.maxPayloadBytes,
    trustProxyHops: config.trustProxyHops,
    staticDir: config.staticDir,
    routers: [
      healthRoutes({ stats: () => hub.stats(), isDraining }),
      metricsRoutes(metrics, { token: config.metricsToken }),
      eventRoutes(bus, verifier, metrics),
      handshakeCheckRoutes(verifier, metrics),
      ...(extension.routes ?? []),
    ],
  });
  const server = createServer(
    {
      headersTimeout: config.httpHeadersTimeoutMs,
      requestTimeout: config.httpRequestTimeoutMs,
      // How often those two are checked (Node's default, 30 s, would let a slow request overrun by as much).
      connectionsCheckingInterval: Math.min(1000, config.httpHeadersTimeoutMs),
      // Checked by the app and the upgrade handler instead, so the refusal carries our headers and body.
      requireHostHeader: false,
    },
    app.callback(),
  );
  server.on('clientError', answerClientErrors(metrics, logger));
  const wsOptions: ServerOptions<typeof GatewaySocket> & { closeTimeout: number } = {
    noServer: true,
    WebSocket: GatewaySocket,
    maxPayload: config.maxPayloadBytes,
    // The hub tracks connections itself, with the room and expiry indexes it needs.
    clientTracking: false,
    perMessageDeflate: false,
    handleProtocols: selectSubprotocol,
    // A socket closed by the gateway (4008, 4001, ...) whose peer does not answer the close within
    // the heartbeat's timeout is gone, like one that does not pong: destroyed then, with its backlog,
    // rather than after ws's default 30 s. (ws 8.23 option, missing from @types/ws.)
    closeTimeout: config.heartbeatTimeoutMs,
  };
  const wss = new WebSocketServer<typeof GatewaySocket>(wsOptions);
  wss.on('wsClientError', refuseMalformedHandshake(metrics));
  server.on(
    'upgrade',
    createUpgradeHandler({
      wss,
      hub,
      verifier,
      allowedOrigins: config.allowedOrigins,
      maxSocketsPerUser: config.maxSocketsPerUser,
      logger,
      metrics,
      isDraining,
    }),
  );

  const closeOnLogout = closeSocketsOnLogout(hub);
  const onEvent = extension.onEvent;
  await bus.start((room, event) => {
    hub.deliver(room, event);
    closeOnLogout(event);
    onEvent?.(room, event);
  });
  await hub.presence.start();
  hub.start();
  if (bus instanceof RedisBus && bus.primary !== undefined) metrics.primaryIs(bus.primary);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: config.port, host: config.host, backlog: config.listenBacklog }, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const port = (server.address() as AddressInfo).port;
  const host = ['0.0.0.0', '::', ''].includes(config.host) ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      draining = true;
      logger.info({ connections: hub.connections.size }, 'draining: closing sockets with 1001');
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await hub.closeAll(CloseCode.GoingAway, config.shutdownTimeoutMs);
      hub.stop();
      await hub.presence.close();
      await extension.close?.();
      await bus.close();
      server.closeAllConnections();
      await serverClosed;
      logger.info('gateway stopped');
    })());

  return {
    config,
    url,
    wsUrl: `${url.replace(/^http/, 'ws')}${WS_PATH}`,
    port,
    logger,
    hub,
    metrics,
    server,
    publish: (request) => bus.publish(request),
    stats: () => hub.stats(),
    close,
  };
}
