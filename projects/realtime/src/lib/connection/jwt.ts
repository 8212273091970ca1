/**
 * Reads the `exp` claim (seconds since the epoch) of a JWT without verifying it: the client only
 * needs to know whether a refused handshake is likely due to an expired token.
 * Returns `null` for anything that is not a JWT with a numeric `exp`.
 */
export function jwtExpiry(token: string): number | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const base64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
    const claims: unknown = JSON.parse(atob(base64));
    if (typeof claims === 'object' && claims !== null && 'exp' in claims && typeof claims.exp === 'number') {
      return claims.exp;
    }
    return null;
  } catch {
    return null;
  }
}

/** True when the token carries an `exp` that is not after `nowMs` (plus a small skew). */
export function isJwtExpired(token: string, nowMs: number, skewMs = 5_000): boolean {
  const exp = jwtExpiry(token);
  return exp !== null && exp * 1000 <= nowMs + skewMs;
}
