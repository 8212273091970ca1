/**
 * Sessions in Redis, shared by every gateway. Rotation runs as one Lua script, so two refreshes
 * racing with the same token cannot both succeed: the loser is a reuse, as it should be.
 *
 *   <prefix>session:<id>    hash {userId, expiresAt, currentHash, revoked}, expires with the session
 *   <prefix>refresh:<hash>  the session id, for every hash the session issued (reuse detection)
 *   <prefix>user:<userId>   set of the user's session ids (logout everywhere)
 */
import type { RedisClientType } from 'redis';
import { createRedisClient, orUnavailable } from '../../redis/client.ts';
import {
  hashRefreshToken,
  newRefreshToken,
  newSessionId,
  RefreshRefused,
  type IssuedRefresh,
  type RefreshFailure,
  type SessionStore,
} from './session-store.ts';

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
  private readonly client: RedisClientType;

  constructor(
    url: string,
    private readonly ttlSeconds: number,
    private readonly prefix = 'realtime:',
    private readonly now: () => number = Date.now,
  ) {
    this.client = createRedisClient(url, { failFast: true });
    // Errors surface on each command (503); the client reconnects by itself.
    this.client.on('error', () => undefined);
  }

  async connect(): Promise<void> {
    await this.client.connect();
  }

  async start(userId: string): Promise<IssuedRefresh> {
    const sessionId = newSessionId();
    const refreshToken = newRefreshToken();
    const hash = hashRefreshToken(refreshToken);
    const ttlMs = this.ttlSeconds * 1000;
    await this.run(() =>
      this.client
        .multi()
        .hSet(this.key('session', sessionId), { userId, expiresAt: String(this.now() + ttlMs), currentHash: hash, revoked: '0' })
        .pExpire(this.key('session', sessionId), ttlMs)
        .set(this.key('refresh', hash), sessionId, { PX: ttlMs })
        .sAdd(this.key('user', userId), sessionId)
        .pExpire(this.key('user', userId), ttlMs)
        .exec(),
    );
    return { sessionId, userId, refreshToken };
  }

  async rotate(refreshToken: string): Promise<IssuedRefresh> {
    const next = newRefreshToken();
    const presented = hashRefreshToken(refreshToken);
    const reply = (await this.run(() =>
      this.client.eval(ROTATE, {
        keys: [this.key('refresh', presented)],
        arguments: [presented, hashRefreshToken(next), String(this.now()), this.prefix],
      }),
    )) as string[];
    const [outcome, sessionId, userId] = reply;
    if (outcome !== 'ok' || sessionId === undefined || userId === undefined) throw new RefreshRefused(outcome as RefreshFailure);
    return { sessionId, userId, refreshToken: next };
  }

  async revokeUser(userId: string): Promise<string[]> {
    const ids = await this.run(() => this.client.sMembers(this.key('user', userId)));
    const revoked: string[] = [];
    for (const id of ids) {
      const key = this.key('session', id);
      // HSET only on a session that still exists (an expired one is already gone).
      if ((await this.run(() => this.client.exists(key))) === 1) {
        await this.run(() => this.client.hSet(key, 'revoked', '1'));
        revoked.push(id);
      }
    }
    return revoked;
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    return (await this.run(() => this.client.hGet(this.key('session', sessionId), 'revoked'))) === '1';
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private key(kind: 'session' | 'refresh' | 'user', id: string): string {
    return `${this.prefix}${kind}:${id}`;
  }

  private run<T>(command: () => Promise<T>): Promise<T> {
    return orUnavailable('session store', command);
  }
}
