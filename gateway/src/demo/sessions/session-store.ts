/**
 * Login sessions and their refresh tokens. A refresh token is opaque, stored only as a hash,
 * single use, and rotated on every refresh. Presenting a token that was already used means it
 * leaked: the whole session (the token family) is revoked, for the thief and the owner alike.
 *
 * Two stores behind one interface: in memory (one gateway) and Redis (shared by every gateway,
 * chosen with REDIS_URL), so that a refresh or a logout works on whichever instance it reaches.
 */
import { createHash, randomBytes } from 'node:crypto';

export type RefreshFailure = 'unknown' | 'reused' | 'expired' | 'revoked';

export class RefreshRefused extends Error {
  override readonly name = 'RefreshRefused';
  constructor(readonly reason: RefreshFailure) {
    super(`refresh token ${reason}`);
  }
}

export interface IssuedRefresh {
  readonly sessionId: string;
  readonly userId: string;
  readonly refreshToken: string;
}

export interface SessionStore {
  start(userId: string): Promise<IssuedRefresh>;
  /** Exchanges a refresh token for the next one, or rejects with RefreshRefused. */
  rotate(refreshToken: string): Promise<IssuedRefresh>;
  /** Revokes every session of a user; resolves with their ids. */
  revokeUser(userId: string): Promise<string[]>;
  /** Answered synchronously where it can be, since every handshake asks. */
  isRevoked(sessionId: string): boolean | Promise<boolean>;
  close(): Promise<void>;
}

export const hashRefreshToken = (token: string): string => createHash('sha256').update(token).digest('base64url');
export const newRefreshToken = (): string => randomBytes(32).toString('base64url');
export const newSessionId = (): string => `s_${randomBytes(12).toString('hex')}`;

interface Session {
  readonly sessionId: string;
  readonly userId: string;
  readonly expiresAt: number;
  revoked: boolean;
  currentHash: string;
}

export class InMemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, Session>();
  /** Every hash a session ever issued, current and used, so that reuse is recognised. */
  private readonly byHash = new Map<string, Session>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.sweep(), 60_000).unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  async start(userId: string): Promise<IssuedRefresh> {
    const refreshToken = newRefreshToken();
    const session: Session = {
      sessionId: newSessionId(),
      userId,
      expiresAt: this.now() + this.ttlSeconds * 1000,
      revoked: false,
      currentHash: hashRefreshToken(refreshToken),
    };
    this.sessions.set(session.sessionId, session);
    this.byHash.set(session.currentHash, session);
    return { sessionId: session.sessionId, userId, refreshToken };
  }

  async rotate(refreshToken: string): Promise<IssuedRefresh> {
    const presented = hashRefreshToken(refreshToken);
    const session = this.byHash.get(presented);
    if (!session) throw new RefreshRefused('unknown');
    if (session.revoked) throw new RefreshRefused('revoked');
    if (presented !== session.currentHash) {
      session.revoked = true;
      throw new RefreshRefused('reused');
    }
    if (session.expiresAt <= this.now()) throw new RefreshRefused('expired');
    const next = newRefreshToken();
    session.currentHash = hashRefreshToken(next);
    this.byHash.set(session.currentHash, session);
    return { sessionId: session.sessionId, userId: session.userId, refreshToken: next };
  }

  async revokeUser(userId: string): Promise<string[]> {
    const revoked: string[] = [];
    for (const session of this.sessions.values()) {
      if (session.userId === userId && !session.revoked) {
        session.revoked = true;
        revoked.push(session.sessionId);
      }
    }
    return revoked;
  }

  isRevoked(sessionId: string): boolean {
    return this.sessions.get(sessionId)?.revoked ?? false;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  /** Drops sessions past their expiry: their refresh tokens can no longer be used anyway. */
  private sweep(): void {
    const now = this.now();
    for (const [hashed, session] of this.byHash) if (session.expiresAt <= now) this.byHash.delete(hashed);
    for (const [id, session] of this.sessions) if (session.expiresAt <= now) this.sessions.delete(id);
  }
}
