/**
 * Login sessions and their refresh tokens. A refresh token is opaque, stored only as a hash,
 * single use, and rotated on every refresh. Presenting a token that was already used means it
 * leaked: the whole session (the token family) is revoked, for the thief and the owner alike.
 */
import { createHash, randomBytes } from 'node:crypto';

export type RefreshFailure = 'unknown' | 'reused' | 'expired' | 'revoked';

export class RefreshRefused extends Error {
  override readonly name = 'RefreshRefused';
  constructor(readonly reason: RefreshFailure) {
    super(`refresh token ${reason}`);
  }
}

export interface Session {
  readonly sessionId: string;
  readonly userId: string;
  readonly expiresAt: number;
  revoked: boolean;
  currentHash: string;
}

export interface IssuedRefresh {
  readonly session: Session;
  readonly refreshToken: string;
}

const hash = (token: string) => createHash('sha256').update(token).digest('base64url');

export class SessionStore {
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

  start(userId: string): IssuedRefresh {
    const refreshToken = randomBytes(32).toString('base64url');
    const session: Session = {
      sessionId: `s_${randomBytes(9).toString('base64url').replace(/[^A-Za-z0-9]/g, '0')}`,
      userId,
      expiresAt: this.now() + this.ttlSeconds * 1000,
      revoked: false,
      currentHash: hash(refreshToken),
    };
    this.sessions.set(session.sessionId, session);
    this.byHash.set(session.currentHash, session);
    return { session, refreshToken };
  }

  /** Exchanges a refresh token for the next one, or throws RefreshRefused. */
  rotate(refreshToken: string): IssuedRefresh {
    const presented = hash(refreshToken);
    const session = this.byHash.get(presented);
    if (!session) throw new RefreshRefused('unknown');
    if (session.revoked) throw new RefreshRefused('revoked');
    if (presented !== session.currentHash) {
      session.revoked = true;
      throw new RefreshRefused('reused');
    }
    if (session.expiresAt <= this.now()) throw new RefreshRefused('expired');
    const next = randomBytes(32).toString('base64url');
    session.currentHash = hash(next);
    this.byHash.set(session.currentHash, session);
    return { session, refreshToken: next };
  }

  /** Revokes every session of a user; returns their ids. */
  revokeUser(userId: string): string[] {
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

  close(): void {
    clearInterval(this.sweeper);
  }

  /** Drops sessions past their expiry: their refresh tokens can no longer be used anyway. */
  private sweep(): void {
    const now = this.now();
    for (const [hashed, session] of this.byHash) if (session.expiresAt <= now) this.byHash.delete(hashed);
    for (const [id, session] of this.sessions) if (session.expiresAt <= now) this.sessions.delete(id);
  }
}
