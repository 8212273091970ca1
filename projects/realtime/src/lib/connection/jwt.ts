/**
 * Reads a JWT's claims without verifying it (verification is the gateway's job): the client only needs to know
 * whether a refused handshake is explained by an expired token, and which login session a token belongs to.
 */
type Claims = Readonly<Record<string, unknown>>;

/** The payload of a JWT, or `null` for anything that is not one. */
export function jwtClaims(token: string): Claims | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const base64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
    const claims: unknown = JSON.parse(atob(base64));
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims) ? (claims as Claims) : null;
  } catch {
    return null;
  }
}

/** The `exp` claim (seconds since the epoch), or `null` for anything that is not a JWT with a numeric `exp`. */
export function jwtExpiry(token: string): number | null {
  const exp = jwtClaims(token)?.['exp'];
  return typeof exp === 'number' ? exp : null;
}

/** True when the token carries an `exp` that is not after `nowMs` (plus a small skew). */
export function isJwtExpired(token: string, nowMs: number, skewMs = 5_000): boolean {
  const exp = jwtExpiry(token);
  return exp !== null && exp * 1000 <= nowMs + skewMs;
}

/**
 * Which login session a token belongs to: its `sid` claim; else its user (`sub`, or `userId` as this gateway's
 * tokens name it); else the token itself (an opaque token: each new one counts as a new session). A refreshed token
 * of the same session has the same key.
 */
export function loginSessionOf(token: string): string {
  const claims = jwtClaims(token);
  const sid = claims?.['sid'];
  if (typeof sid === 'string') return `sid:${sid}`;
  const user = claims?.['sub'] ?? claims?.['userId'];
  if (typeof user === 'string') return `user:${user}`;
  return `token:${token}`;
}
