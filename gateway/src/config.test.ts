import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './config.ts';

const secret = 's'.repeat(32);

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    assert.deepEqual(loadConfig({ JWT_SECRET: secret }), {
      port: 3000,
      host: '0.0.0.0',
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
      busRetentionCount: 10_000,
      busRetentionMs: 300_000,
      busRetentionBytes: 4_194_304,
      recoveryMaxEvents: 1000,
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

  it('refuses a burst below the sustained rate', () => {
    assert.throws(() => loadConfig({ JWT_SECRET: secret, WS_RATE_LIMIT_PER_SECOND: '50', WS_RATE_LIMIT_BURST: '10' }), /WS_RATE_LIMIT_BURST/);
  });
});
