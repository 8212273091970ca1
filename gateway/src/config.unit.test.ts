import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, defaultConfig, loadConfig } from './config.ts';

const secret = 's'.repeat(32);

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    assert.deepEqual(loadConfig({ JWT_SECRET: secret }), {
      port: 3000,
      host: '0.0.0.0',
      listenBacklog: 4096,
      jwtSecret: secret,
      heartbeatIntervalMs: 30_000,
      heartbeatTimeoutMs: 10_000,
      allowedOrigins: [],
      maxPayloadBytes: 65_536,
      rateLimitPerSecond: 20,
      rateLimitBurst: 40,
      maxBufferedBytes: 1_048_576,
      shutdownTimeoutMs: 10_000,
      logLevel: 'info',
      accessTokenTtlSeconds: 900,
      refreshTokenTtlSeconds: 604_800,
      demoUsers: false,
      simulatorIntervalMs: 0,
      staticDir: undefined,
      redisUrl: undefined,
      redisSentinels: [],
      redisSentinelMaster: 'mymaster',
      redisPassword: undefined,
      redisTls: false,
      redisMinReplicasAck: 0,
      redisWaitTimeoutMs: 1000,
      busRetentionCount: 10_000,
      busRetentionMs: 300_000,
      busRetentionBytes: 4_194_304,
      recoveryMaxEvents: 1000,
      trustProxyHops: 0,
      maxSocketsPerUser: 32,
      resumeBurst: 3,
      resumesPerMinute: 6,
      maxPresenceWatches: 100,
      jwtMaxTtlSeconds: 86_400,
      jwtClockSkewSeconds: 30,
      loginMaxAttemptsPerAccount: 10,
      loginMaxAttemptsPerAddress: 100,
      loginThrottleWindowSeconds: 900,
      paymentsPerUserPerMinute: 30,
      paymentsMaxPerUser: 1000,
      httpHeadersTimeoutMs: 10_000,
      httpRequestTimeoutMs: 30_000,
      metricsToken: undefined,
    });
  });

  it('parses every variable and returns a frozen object', () => {
    const config = loadConfig({
      JWT_SECRET: secret,
      PORT: '8080',
      HOST: '127.0.0.1',
      HEARTBEAT_INTERVAL_MS: '5000',
      HEARTBEAT_TIMEOUT_MS: '2000',
      WS_ALLOWED_ORIGINS: 'https://a.example.com, https://b.example.com',
      WS_MAX_PAYLOAD_BYTES: '4096',
      WS_RATE_LIMIT_PER_SECOND: '5',
      WS_RATE_LIMIT_BURST: '10',
      WS_MAX_BUFFERED_BYTES: '65536',
      SHUTDOWN_TIMEOUT_MS: '100',
      LOG_LEVEL: 'debug',
    });
    assert.equal(config.port, 8080);
    assert.deepEqual(config.allowedOrigins, ['https://a.example.com', 'https://b.example.com']);
    assert.equal(config.rateLimitBurst, 10);
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.allowedOrigins));
  });

  it('names every bad variable at once', () => {
    assert.throws(
      () => loadConfig({ PORT: 'x', LOG_LEVEL: 'loud' }),
      (error: unknown) =>
        error instanceof ConfigError && /PORT/.test(error.message) && /JWT_SECRET/.test(error.message) && /LOG_LEVEL/.test(error.message),
    );
  });

  it('treats an empty variable as unset', () => {
    assert.equal(loadConfig({ JWT_SECRET: secret, PORT: '' }).port, 3000);
  });

  it('refuses a headers timeout above the request timeout', () => {
    assert.throws(
      () => loadConfig({ JWT_SECRET: secret, HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '1000' }),
      /HTTP_HEADERS_TIMEOUT_MS \(5000\) must not exceed HTTP_REQUEST_TIMEOUT_MS/,
    );
  });

  it('refuses an access-token lifetime the gateway itself would refuse', () => {
    assert.throws(
      () => loadConfig({ JWT_SECRET: secret, ACCESS_TOKEN_TTL_SECONDS: '7200', JWT_MAX_TTL_SECONDS: '3600' }),
      /ACCESS_TOKEN_TTL_SECONDS \(7200\) must not exceed JWT_MAX_TTL_SECONDS/,
    );
  });

  it('refuses a short METRICS_TOKEN', () => {
    assert.throws(() => loadConfig({ JWT_SECRET: secret, METRICS_TOKEN: 'short' }), /METRICS_TOKEN must be at least 16 characters/);
  });

  it('reads the Redis variables: Sentinels instead of a URL, replicas acknowledging by default behind them', () => {
    const sentinel = loadConfig({
      JWT_SECRET: secret,
      REDIS_SENTINELS: 'sentinel-1:26379, 10.0.0.2:26380',
      REDIS_SENTINEL_MASTER: 'payments',
      REDIS_PASSWORD: 'pw',
      REDIS_TLS: 'true',
      REDIS_WAIT_TIMEOUT_MS: '250',
    });
    assert.deepEqual(sentinel.redisSentinels, [
      { host: 'sentinel-1', port: 26379 },
      { host: '10.0.0.2', port: 26380 },
    ]);
    assert.deepEqual(
      [sentinel.redisSentinelMaster, sentinel.redisPassword, sentinel.redisTls, sentinel.redisMinReplicasAck, sentinel.redisWaitTimeoutMs],
      ['payments', 'pw', true, 1, 250],
    );
    assert.ok(Object.isFrozen(sentinel.redisSentinels));
    assert.equal(loadConfig({ JWT_SECRET: secret, REDIS_SENTINELS: 'a:1', REDIS_MIN_REPLICAS_ACK: '0' }).redisMinReplicasAck, 0);
    assert.equal(loadConfig({ JWT_SECRET: secret, REDIS_URL: 'redis://r:6379', REDIS_MIN_REPLICAS_ACK: '2' }).redisMinReplicasAck, 2);
    assert.equal(defaultConfig({ jwtSecret: secret, redisSentinels: [{ host: 'a', port: 1 }] }).redisMinReplicasAck, 1, 'embedding too');
  });

  it('refuses REDIS_URL with REDIS_SENTINELS, and a malformed Sentinel list', () => {
    assert.throws(() => loadConfig({ JWT_SECRET: secret, REDIS_URL: 'redis://r:6379', REDIS_SENTINELS: 'a:1' }), /REDIS_URL or REDIS_SENTINELS, not both/);
    for (const bad of ['a', 'a:', ':1', 'a:0', 'a:65536', 'a:1,b', 'a b:1']) {
      assert.throws(() => loadConfig({ JWT_SECRET: secret, REDIS_SENTINELS: bad }), /REDIS_SENTINELS/, bad);
    }
    assert.throws(() => loadConfig({ JWT_SECRET: secret, REDIS_MIN_REPLICAS_ACK: '-1' }), /REDIS_MIN_REPLICAS_ACK/);
  });

  it('refuses a burst below the sustained rate', () => {
    assert.throws(() => loadConfig({ JWT_SECRET: secret, WS_RATE_LIMIT_PER_SECOND: '50', WS_RATE_LIMIT_BURST: '10' }), /WS_RATE_LIMIT_BURST/);
  });
});
