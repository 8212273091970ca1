/**
 * Gateway configuration: parsed and validated once, from the environment, into a frozen object.
 * Every error names the variable, so a bad deployment fails at start with a precise message.
 */
import { z } from 'zod';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface GatewayConfig {
  readonly port: number;
  readonly host: string;
  /** Connections the kernel queues for accept (capped by net.core.somaxconn): a reconnect storm lands here. */
  readonly listenBacklog: number;
  /** HS256 secret for access tokens. */
  readonly jwtSecret: string;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;
  /** Allowed `Origin` values for the WebSocket handshake; empty allows any. */
  readonly allowedOrigins: readonly string[];
  readonly maxPayloadBytes: number;
  /** Sustained client messages per second per socket, and the burst above it. */
  readonly rateLimitPerSecond: number;
  readonly rateLimitBurst: number;
  /** Unsent bytes a socket may queue before it is closed as a slow consumer (4008). */
  readonly maxBufferedBytes: number;
  /** How long SIGTERM waits for sockets to close before terminating them. */
  readonly shutdownTimeoutMs: number;
  readonly logLevel: LogLevel;
  /** Lifetime of access tokens issued by POST /api/auth/login and /refresh. */
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  /** Seed the demo users (and list them at GET /api/auth/demo-accounts). */
  readonly demoUsers: boolean;
  /** Move payments in flight one step this often; 0 turns the simulator off. */
  readonly simulatorIntervalMs: number;
  /** Serve the built Angular app from this folder (with an SPA fallback); unset serves none. */
  readonly staticDir: string | undefined;
  /** Redis for the shared bus across gateways; unset (and no Sentinels) runs the in-memory bus (one process). */
  readonly redisUrl: string | undefined;
  /** Sentinels that name the Redis primary (instead of `redisUrl`), and the name they monitor it under. */
  readonly redisSentinels: readonly { readonly host: string; readonly port: number }[];
  readonly redisSentinelMaster: string;
  /** Password of the Redis data nodes. */
  readonly redisPassword: string | undefined;
  /** TLS to the Redis data nodes in Sentinel mode (with a URL: `rediss://`). */
  readonly redisTls: boolean;
  /** Replicas that must acknowledge a write before the gateway relies on it (WAIT); 1 with Sentinels, else 0. */
  readonly redisMinReplicasAck: number;
  /** How long a WAIT for them may take before the publish (or write) is refused with 503. */
  readonly redisWaitTimeoutMs: number;
  /** Events kept for replay after a reconnect: at most this many, and no older than the age. */
  readonly busRetentionCount: number;
  readonly busRetentionMs: number;
  /** In-memory bus only: bytes of events kept (Redis bounds its own memory by count and age). */
  readonly busRetentionBytes: number;
  /** Most events one resume replays; a client that missed more reloads its state instead. */
  readonly recoveryMaxEvents: number;

  // Hardening limits: what one client, user or address may cost a gateway (docs/protocol.md).
  /** Proxies in front of the gateway whose X-Forwarded-For entries are trusted (0: use the peer's address). */
  readonly trustProxyHops: number;
  /** Open sockets per user on one gateway; the next handshake is refused with 429. */
  readonly maxSocketsPerUser: number;
  /** `resume` requests per socket: at once, and sustained per minute (a replay is expensive). */
  readonly resumeBurst: number;
  readonly resumesPerMinute: number;
  /** Rooms one socket may watch the presence of at once. */
  readonly maxPresenceWatches: number;
  /** Longest access-token lifetime accepted (`exp - iat`, and `exp - now`). */
  readonly jwtMaxTtlSeconds: number;
  /** Clock difference tolerated with token issuers, for `iat` and `nbf` in the future. */
  readonly jwtClockSkewSeconds: number;
  /** Login attempts per account (since its last successful login) and per client address, within the window. */
  readonly loginMaxAttemptsPerAccount: number;
  readonly loginMaxAttemptsPerAddress: number;
  readonly loginThrottleWindowSeconds: number;
  /** The demo's payment creations per user per minute, and payments kept per user. */
  readonly paymentsPerUserPerMinute: number;
  readonly paymentsMaxPerUser: number;
  /** Time a client gets to send its request headers, and its whole request (headers and body). */
  readonly httpHeadersTimeoutMs: number;
  readonly httpRequestTimeoutMs: number;
  /** Bearer token for GET /metrics; unset serves metrics to loopback clients only. */
  readonly metricsToken: string | undefined;
}

/** Each variable, its config key and its schema (defaults included). */
const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], { error: 'must be true or false' })
  .default('false')
  .transform((value) => ['true', '1', 'yes', 'on'].includes(value));

const envSchema = {
  PORT: ['port', integer(0, 65535).default(3000)],
  HOST: ['host', z.string().min(1).default('0.0.0.0')],
  LISTEN_BACKLOG: ['listenBacklog', integer(1, 65_535).default(4096)],
  JWT_SECRET: [
    'jwtSecret',
    z
      .string({ error: 'is required (an HS256 secret of at least 32 characters)' })
      .min(32, 'must be at least 32 characters (256 bits) for HS256'),
  ],
  HEARTBEAT_INTERVAL_MS: ['heartbeatIntervalMs', integer(100, 3_600_000).default(30_000)],
  HEARTBEAT_TIMEOUT_MS: ['heartbeatTimeoutMs', integer(50, 3_600_000).default(10_000)],
  WS_ALLOWED_ORIGINS: [
    'allowedOrigins',
    z
      .string()
      .default('')
      .transform((list) => list.split(',').map((origin) => origin.trim()).filter(Boolean))
      .pipe(z.array(z.url({ error: 'must be a comma-separated list of origins such as https://app.example.com' }))),
  ],
  WS_MAX_PAYLOAD_BYTES: ['maxPayloadBytes', integer(1024, 16 * 1024 * 1024).default(65_536)],
  WS_RATE_LIMIT_PER_SECOND: ['rateLimitPerSecond', integer(1, 100_000).default(20)],
  WS_RATE_LIMIT_BURST: ['rateLimitBurst', integer(1, 100_000).default(40)],
  WS_MAX_BUFFERED_BYTES: ['maxBufferedBytes', integer(1024, 1024 * 1024 * 1024).default(1024 * 1024)],
  SHUTDOWN_TIMEOUT_MS: ['shutdownTimeoutMs', integer(0, 600_000).default(10_000)],
  LOG_LEVEL: ['logLevel', z.enum(LOG_LEVELS).default('info')],
  ACCESS_TOKEN_TTL_SECONDS: ['accessTokenTtlSeconds', integer(5, 86_400).default(900)],
  REFRESH_TOKEN_TTL_SECONDS: ['refreshTokenTtlSeconds', integer(60, 90 * 86_400).default(7 * 86_400)],
  DEMO_USERS: ['demoUsers', flag],
  SIMULATOR_INTERVAL_MS: [
    'simulatorIntervalMs',
    integer(0, 3_600_000)
      .refine((ms) => ms === 0 || ms >= 100, 'must be 0 (off) or at least 100')
      .default(0),
  ],
  STATIC_DIR: ['staticDir', z.string().min(1).optional()],
  REDIS_URL: [
    'redisUrl',
    z
      .url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' })
      .optional(),
  ],
  REDIS_SENTINELS: [
    'redisSentinels',
    z
      .string()
      .default('')
      .transform((list) => list.split(',').map((entry) => entry.trim()).filter(Boolean))
      .pipe(
        z.array(
          z
            .string()
            .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be a comma-separated list of host:port')
            .transform((entry) => {
              const colon = entry.lastIndexOf(':');
              return { host: entry.slice(0, colon), port: Number(entry.slice(colon + 1)) };
            })
            .refine(({ port }) => port >= 1 && port <= 65_535, 'must have ports from 1 to 65535'),
        ),
      ),
  ],
  REDIS_SENTINEL_MASTER: ['redisSentinelMaster', z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be a Sentinel master name').default('mymaster')],
  REDIS_PASSWORD: ['redisPassword', z.string().min(1).optional()],
  REDIS_TLS: ['redisTls', flag],
  REDIS_MIN_REPLICAS_ACK: ['redisMinReplicasAck', integer(0, 16).optional()],
  REDIS_WAIT_TIMEOUT_MS: ['redisWaitTimeoutMs', integer(10, 60_000).default(1000)],
  BUS_RETENTION_COUNT: ['busRetentionCount', integer(10, 10_000_000).default(10_000)],
  BUS_RETENTION_MS: ['busRetentionMs', integer(1000, 7 * 86_400_000).default(300_000)],
  BUS_RETENTION_BYTES: ['busRetentionBytes', integer(0, 1024 * 1024 * 1024).default(4 * 1024 * 1024)],
  RECOVERY_MAX_EVENTS: ['recoveryMaxEvents', integer(1, 100_000).default(1000)],
  TRUST_PROXY_HOPS: ['trustProxyHops', integer(0, 10).default(0)],
  WS_MAX_SOCKETS_PER_USER: ['maxSocketsPerUser', integer(1, 100_000).default(32)],
  WS_RESUME_BURST: ['resumeBurst', integer(1, 1000).default(3)],
  WS_RESUMES_PER_MINUTE: ['resumesPerMinute', integer(1, 60_000).default(6)],
  WS_MAX_PRESENCE_WATCHES: ['maxPresenceWatches', integer(0, 100_000).default(100)],
  JWT_MAX_TTL_SECONDS: ['jwtMaxTtlSeconds', integer(60, 30 * 86_400).default(86_400)],
  JWT_CLOCK_SKEW_SECONDS: ['jwtClockSkewSeconds', integer(0, 600).default(30)],
  LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: ['loginMaxAttemptsPerAccount', integer(1, 100_000).default(10)],
  LOGIN_MAX_ATTEMPTS_PER_ADDRESS: ['loginMaxAttemptsPerAddress', integer(1, 1_000_000).default(100)],
  LOGIN_THROTTLE_WINDOW_SECONDS: ['loginThrottleWindowSeconds', integer(1, 86_400).default(900)],
  PAYMENTS_PER_USER_PER_MINUTE: ['paymentsPerUserPerMinute', integer(1, 100_000).default(30)],
  PAYMENTS_MAX_PER_USER: ['paymentsMaxPerUser', integer(1, 1_000_000).default(1000)],
  HTTP_HEADERS_TIMEOUT_MS: ['httpHeadersTimeoutMs', integer(100, 600_000).default(10_000)],
  HTTP_REQUEST_TIMEOUT_MS: ['httpRequestTimeoutMs', integer(100, 3_600_000).default(30_000)],
  METRICS_TOKEN: ['metricsToken', z.string().min(16, 'must be at least 16 characters').optional()],
} as const satisfies Record<string, readonly [keyof GatewayConfig, z.ZodType]>;

export type EnvVariable = keyof typeof envSchema;
export const ENV_VARIABLES = Object.keys(envSchema) as EnvVariable[];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses `env` (normally process.env). Throws a ConfigError naming every bad variable. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): GatewayConfig {
  const config: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const name of ENV_VARIABLES) {
    const [key, schema] = envSchema[name];
    const raw = env[name];
    const result = schema.safeParse(raw === '' && name !== 'WS_ALLOWED_ORIGINS' && name !== 'REDIS_SENTINELS' ? undefined : raw);
    if (result.success) config[key] = result.data;
    else problems.push(`${name} ${result.error.issues.map((issue) => issue.message).join(', ')}`);
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  return checkConfig(config as unknown as GatewayConfig);
}

/** Defaults for everything but the secret, for embedding the gateway (tests, the demo). */
export function defaultConfig(overrides: Partial<GatewayConfig> & Pick<GatewayConfig, 'jwtSecret'>): GatewayConfig {
  // REDIS_MIN_REPLICAS_ACK's default depends on REDIS_SENTINELS: decided again with the overrides.
  const { redisMinReplicasAck: _derived, ...defaults } = loadConfig({ JWT_SECRET: overrides.jwtSecret });
  return checkConfig({ ...defaults, ...overrides });
}

/** Rules across variables, checked after each variable is valid on its own. */
function checkConfig(config: Omit<GatewayConfig, 'redisMinReplicasAck'> & { readonly redisMinReplicasAck?: number }): GatewayConfig {
  if (config.heartbeatTimeoutMs >= config.heartbeatIntervalMs) {
    throw new ConfigError(
      `invalid configuration: HEARTBEAT_TIMEOUT_MS (${config.heartbeatTimeoutMs}) must be less than HEARTBEAT_INTERVAL_MS (${config.heartbeatIntervalMs})`,
    );
  }
  if (config.redisUrl !== undefined && config.redisSentinels.length > 0) {
    throw new ConfigError('invalid configuration: set REDIS_URL or REDIS_SENTINELS, not both');
  }
  if (config.rateLimitBurst < config.rateLimitPerSecond) {
    throw new ConfigError(
      `invalid configuration: WS_RATE_LIMIT_BURST (${config.rateLimitBurst}) must be at least WS_RATE_LIMIT_PER_SECOND (${config.rateLimitPerSecond})`,
    );
  }
  if (config.httpHeadersTimeoutMs > config.httpRequestTimeoutMs) {
    throw new ConfigError(
      `invalid configuration: HTTP_HEADERS_TIMEOUT_MS (${config.httpHeadersTimeoutMs}) must not exceed HTTP_REQUEST_TIMEOUT_MS (${config.httpRequestTimeoutMs})`,
    );
  }
  if (config.accessTokenTtlSeconds > config.jwtMaxTtlSeconds) {
    throw new ConfigError(
      `invalid configuration: ACCESS_TOKEN_TTL_SECONDS (${config.accessTokenTtlSeconds}) must not exceed JWT_MAX_TTL_SECONDS (${config.jwtMaxTtlSeconds}): the gateway would refuse its own tokens`,
    );
  }
  return Object.freeze({
    ...config,
    allowedOrigins: Object.freeze([...config.allowedOrigins]),
    redisSentinels: Object.freeze([...config.redisSentinels]),
    // Replicas acknowledge by default where there are some to ask: behind Sentinels.
    redisMinReplicasAck: config.redisMinReplicasAck ?? (config.redisSentinels.length > 0 ? 1 : 0),
  });
}
