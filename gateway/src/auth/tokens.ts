/**
 * Access tokens: HS256 JWTs with the claims the realtime layer needs. `TokenVerifier` is the one
 * place a token is checked: handshakes, the HTTP API and anything else that takes a token call it.
 *
 * The secret is turned into a KeyObject once. Handing jsonwebtoken a string makes it
 * create a KeyObject on every call, which multiplies the cost of each handshake.
 *
 * Lifetime: a token may live at most `maxTtlSeconds` (JWT_MAX_TTL_SECONDS): `exp - iat` when it
 * has an `iat`, and always `exp - now`, so a token without `iat` cannot outlive the bound either.
 * `iat` and `nbf` may lie up to `clockSkewSeconds` in the future (an issuer whose clock runs
 * ahead); `exp` is strict, since clients refresh ahead of it.
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { LRUCache } from 'lru-cache';
import type { Role } from '@payments-system/protocol';
import { isAccessTokenPayload } from './claims.ts';

const ALGORITHM = 'HS256';
const ALGORITHMS: jwt.Algorithm[] = [ALGORITHM];

export interface Claims {
  readonly userId: string;
  readonly email: string;
  readonly role: Role;
  /** Expiry, in seconds since the epoch (the JWT `exp`). */
  readonly exp: number;
  /** Login session the token belongs to, when it came from a login (`sid`). */
  readonly sessionId?: string;
}

export type AuthFailureReason =
  | 'missing'
  | 'malformed'
  | 'invalid_signature'
  | 'unsupported_algorithm'
  | 'expired'
  | 'not_yet_valid'
  | 'issued_in_future'
  | 'lifetime_too_long'
  | 'invalid_claims'
  | 'revoked';

/** Why a token was refused; the reason is safe to log and to count, the token never is. */
export class AuthFailure extends Error {
  override readonly name = 'AuthFailure';
  constructor(readonly reason: AuthFailureReason) {
    super(`token ${reason.replace(/_/g, ' ')}`);
  }
}

/** The HS256 key, made once from the configured secret. */
export function secretKey(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret, 'utf8'));
}

/**
 * How many verified tokens are remembered. Callers of the HTTP API send one token with many
 * requests (a service publishing events, the app before it opens its socket with the same token):
 * remembered, it skips the HMAC and the claims check, ≈ 40 % of a publish request's CPU here.
 * Handshakes read the cache but do not fill it: a socket shows its token once, and a reconnect
 * storm of new tokens would pay an eviction per handshake.
 */
export const VERIFIED_TOKENS_CACHED = 1024;

/** Defaults of JWT_MAX_TTL_SECONDS and JWT_CLOCK_SKEW_SECONDS. */
export const DEFAULT_MAX_TTL_SECONDS = 86_400;
export const DEFAULT_CLOCK_SKEW_SECONDS = 30;

export interface VerifierOptions {
  /** Rejects tokens of a login session that ended (logout, stolen refresh token). */
  readonly isSessionRevoked?: (sessionId: string) => boolean | Promise<boolean>;
  /** Longest lifetime accepted, in seconds. */
  readonly maxTtlSeconds?: number;
  /** How far `iat` and `nbf` may lie in the future, in seconds. */
  readonly clockSkewSeconds?: number;
  /** The clock, in seconds since the epoch (tests move it). */
  readonly nowSeconds?: () => number;
}

export interface VerifyOptions {
  /** Remember the token once verified (see VERIFIED_TOKENS_CACHED). */
  readonly remember?: boolean;
}

export class TokenVerifier {
  private readonly key: KeyObject;
  /** Token → its claims, for tokens whose signature and claims were checked with this key. */
  private readonly verified = new LRUCache<string, Claims>({ max: VERIFIED_TOKENS_CACHED });

  private readonly isSessionRevoked: (sessionId: string) => boolean | Promise<boolean>;
  private readonly maxTtlSeconds: number;
  private readonly clockSkewSeconds: number;
  private readonly nowSeconds: () => number;

  constructor(secret: string | KeyObject, options: VerifierOptions = {}) {
    this.key = typeof secret === 'string' ? secretKey(secret) : secret;
    this.isSessionRevoked = options.isSessionRevoked ?? (() => false);
    this.maxTtlSeconds = options.maxTtlSeconds ?? DEFAULT_MAX_TTL_SECONDS;
    this.clockSkewSeconds = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
    this.nowSeconds = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  }

  /** Tokens remembered as verified (at most VERIFIED_TOKENS_CACHED). */
  get cachedTokens(): number {
    return this.verified.size;
  }

  /**
   * The token's claims when it is valid and its session has not ended; throws (or rejects) with an
   * AuthFailure. Synchronous unless the session check is not: every handshake comes through here.
   */
  authenticate(token: string | undefined, options: VerifyOptions = {}): Claims | Promise<Claims> {
    const claims = this.verify(token, options);
    if (claims.sessionId === undefined) return claims;
    const revoked = this.isSessionRevoked(claims.sessionId);
    const decide = (isRevoked: boolean): Claims => {
      if (isRevoked) throw new AuthFailure('revoked');
      return claims;
    };
    return typeof revoked === 'boolean' ? decide(revoked) : revoked.then(decide);
  }

  /** Checks signature, algorithm, lifetime and claims (not revocation: see `authenticate`); throws an AuthFailure. */
  verify(token: string | undefined, { remember = false }: VerifyOptions = {}): Claims {
    if (!token) throw new AuthFailure('missing');
    // The same string was verified with this key: only its expiry can have changed since.
    // jsonwebtoken's rule, without clock tolerance: expired from the second `exp` on.
    const known = this.verified.get(token);
    const now = this.nowSeconds();
    if (known !== undefined && now < known.exp) return known;
    let decoded: unknown;
    try {
      // `nbf` is checked below, with the clock-skew allowance jsonwebtoken would also give `exp`.
      decoded = jwt.verify(token, this.key, { algorithms: ALGORITHMS, clockTimestamp: now, ignoreNotBefore: true });
    } catch (error) {
      throw new AuthFailure(reasonOf(error));
    }
    if (!isAccessTokenPayload(decoded)) throw new AuthFailure('invalid_claims');
    const { userId, email, role, exp, sid, iat, nbf } = decoded;
    const latest = now + this.clockSkewSeconds;
    if (nbf !== undefined && nbf > latest) throw new AuthFailure('not_yet_valid');
    if (iat !== undefined && iat > latest) throw new AuthFailure('issued_in_future');
    if (exp - now > this.maxTtlSeconds + this.clockSkewSeconds || (iat !== undefined && exp - iat > this.maxTtlSeconds)) {
      throw new AuthFailure('lifetime_too_long');
    }
    // Only the contract's fields: whatever else the token carries stays out of the claims.
    const claims: Claims = Object.freeze(sid === undefined ? { userId, email, role, exp } : { userId, email, role, exp, sessionId: sid });
    if (remember) this.verified.set(token, claims);
    return claims;
  }
}

function reasonOf(error: unknown): AuthFailureReason {
  if (error instanceof jwt.TokenExpiredError) return 'expired';
  if (error instanceof jwt.NotBeforeError) return 'not_yet_valid';
  const message = error instanceof Error ? error.message : '';
  if (message === 'invalid signature') return 'invalid_signature';
  // `alg: none` tokens arrive without a signature; other algorithms are refused by the pin.
  if (message === 'invalid algorithm' || message === 'jwt signature is required') return 'unsupported_algorithm';
  return 'malformed';
}

export interface TokenSubject {
  readonly userId: string;
  readonly email: string;
  readonly role: Role;
  readonly sessionId?: string;
}

/** Signs an access token (the demo's login, the token CLI, tests). */
export function signAccessToken(
  secret: string | KeyObject,
  subject: TokenSubject,
  options: { readonly expiresInSeconds?: number } = {},
): string {
  const key = typeof secret === 'string' ? secretKey(secret) : secret;
  const { sessionId, ...claims } = subject;
  return jwt.sign(sessionId === undefined ? claims : { ...claims, sid: sessionId }, key, {
    algorithm: ALGORITHM,
    expiresIn: options.expiresInSeconds ?? 15 * 60,
  });
}
