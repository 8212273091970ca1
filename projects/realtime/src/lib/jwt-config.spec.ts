import { fakeJwt } from '../spec-helpers/server-messages';
import { resolveRealtimeConfig } from './config';
import { isJwtExpired, jwtExpiry } from './connection/jwt';

describe('jwtExpiry / isJwtExpired', () => {
  it('reads exp from a JWT without verifying it', () => {
    expect(jwtExpiry(fakeJwt(1_900_000_000))).toBe(1_900_000_000);
    expect(isJwtExpired(fakeJwt(100), 200_000)).toBeTrue();
    expect(isJwtExpired(fakeJwt(1000), 200_000)).toBeFalse();
  });

  it('treats opaque tokens as not expired (only the server can tell)', () => {
    expect(jwtExpiry('opaque-token')).toBeNull();
    expect(jwtExpiry('a.%%%.c')).toBeNull();
    expect(isJwtExpired('opaque-token', Date.now())).toBeFalse();
  });
});

describe('resolveRealtimeConfig', () => {
  it('fills in the documented defaults', () => {
    const config = resolveRealtimeConfig({ url: 'wss://gw.example/ws', token: 't' });
    expect(config.reconnect).toEqual({ maxAttempts: 10, delaysMs: [1000, 2000, 4000, 8000, 16000, 30000], jitter: 'equal' });
    expect(config.heartbeat).toEqual({ intervalMs: 25000, timeoutMs: 10000 });
    expect(config.autoConnect).toBeTrue();
    expect(config.requestTimeoutMs).toBe(10000);
    expect(config.sendQueueSize).toBe(100);
    expect(config.tokenTransport).toBe('subprotocol');
    expect(config.refreshToken).toBeNull();
  });

  it('rejects impossible settings loudly', () => {
    expect(() => resolveRealtimeConfig({ url: 'http://x/ws', token: 't' })).toThrowError(/url must start with/);
    expect(() => resolveRealtimeConfig({ url: '/ws', token: 't', reconnect: { delaysMs: [] } })).toThrowError(/delaysMs/);
    expect(() => resolveRealtimeConfig({ url: '/ws', token: 't', heartbeat: { intervalMs: 0 } })).toThrowError(/intervalMs/);
    expect(() => resolveRealtimeConfig({ url: '/ws', token: 't', reconnect: { maxAttempts: -1 } })).toThrowError(/maxAttempts/);
  });

  it('turns reconnect and heartbeat off with false', () => {
    const config = resolveRealtimeConfig({ url: '/ws', token: 't', reconnect: false, heartbeat: false });
    expect(config.reconnect).toBeNull();
    expect(config.heartbeat).toBeNull();
  });
});
