/**
 * Sessions in Redis, shared by every gateway. Every change is one Lua script, written with the
 * replicas' acknowledgement when the gateway asks for one (see redis/connection.ts). Rotation as a
 * script means two refreshes racing with the same token cannot both succeed: the loser is a reuse,
 * as it should be.
 *
 *   <prefix>session:<id>    hash {userId, expiresAt, currentHash, revoked}, expires with the session
 *   <prefix>refresh:<hash>  the session id, for every hash the session issued (reuse detection)
 *   <prefix>user:<userId>   set of the user's session ids (logout everywhere)
 */
import { orUnavailable } from '../../redis/unavailable.ts';
import type { RedisConnection } from '../../redis/connection.ts';
import {
  hashRefreshToken,
  newRefreshToken,
  newSessionId,
  RefreshRefused,
  type IssuedRefresh,
  type RefreshFailure,
  type SessionStore,
} from './session-store.ts';

/** KEYS: session, refresh, user set. ARGV: userId, expiresAt, hash, ttl ms, session id. */
const START = `
redis.call('HSET', KEYS[1], 'userId', ARGV[1], 'expiresAt', ARGV[2], 'currentHash', ARGV[3], 'revoked', '0')
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[4])
redis.call('SADD', KEYS[3], ARGV[5])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
return 1
`;

/** Marks every live session of a user revoked; returns their ids. KEYS: user set. ARGV: key prefix. */
const REVOKE_USER = `
local revoked = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. 'session:' .. id
  if redis.call('EXISTS', key) == 1 then
    redis.call('HSET', key, 'revoked', '1')
    revoked[#revoked + 1] = id
  end
end
return revoked
`;

const ROTATE = `
local sid = redis.call('GET', KEYS[1])
if not sid then return {'unknown'} end
local key = ARGV[4] .. 'session:' .. sid
local s = redis.call('HMGET', key, 'userId', 'expiresAt', 'currentHash', 'revoked')
if not s[1] then return {'unknown'} end
if s[4] == '1' then return {'revoked'} end
if s[3] ~= ARGV[1] then
  redis.call('HSET', key, 'revoked', '1')
  return {'reused'}
end
local left = tonumber(s[2]) - tonumber(ARGV[3])
if left <= 0 then return {'expired'} end
redis.call('HSET', key, 'currentHash', ARGV[2])
redis.call('SET', ARGV[4] .. 'refresh:' .. ARGV[2], sid, 'PX', left)
return {'ok', sid, s[1]}
`;

export class RedisSessionStore implements SessionStore {
  /** `connection` fails fast (errors surface on each command as 503) and reconnects by itself. */
  constructor(
    private readonly connection: RedisConnection,
    private readonly ttlSeconds: number,
    private readonly prefix = 'realtime:',
    private readonly now: () => number = Date.now,
  ) {}

  async connect(): Promise<void> {
    await this.connection.connect();
  }

  async start(userId: string): Promise<IssuedRefresh> {
    const sessionId = newSessionId();
    const refreshToken = newRefreshToken();
    const hash = hashRefreshToken(refreshToken);
    const ttlMs = this.ttlSeconds * 1000;
    await this.run(() =>
      this.connection.write(
        START,
        [this.key('session', sessionId), this.key('refresh', hash), this.key('user', userId)],
        [userId, String(this.now() + ttlMs), hash, String(ttlMs), sessionId],
      ),
    );
    return { sessionId, userId, refreshToken };
  }

  async rotate(refreshToken: string): Promise<IssuedRefresh> {
    const next = newRefreshToken();
    const presented = hashRefreshToken(refreshToken);
    const reply = (await this.run(() =>
      this.connection.write(ROTATE, [this.key('refresh', presented)], [presented, hashRefreshToken(next), String(this.now()), this.prefix]),
    )) as string[];
    const [outcome, sessionId, userId] = reply;
    if (outcome !== 'ok' || sessionId === undefined || userId === undefined) throw new RefreshRefused(outcome as RefreshFailure);
    return { sessionId, userId, refreshToken: next };
  }

  async revokeUser(userId: string): Promise<string[]> {
    // HSET only on a session that still exists (an expired one is already gone).
    return (await this.run(() => this.connection.write(REVOKE_USER, [this.key('user', userId)], [this.prefix]))) as string[];
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    return (await this.run(() => this.connection.commands.hGet(this.key('session', sessionId), 'revoked'))) === '1';
  }

  async close(): Promise<void> {
    this.connection.destroy();
  }

  private key(kind: 'session' | 'refresh' | 'user', id: string): string {
    return `${this.prefix}${kind}:${id}`;
  }

  private run<T>(command: () => Promise<T>): Promise<T> {
    return orUnavailable('session store', command);
  }
}
