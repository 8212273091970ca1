/**
 * The claims an access token must carry, checked on every handshake and every new token of the
 * HTTP API. Checked by hand rather than with a zod schema: the schema's parse cost a handshake
 * several µs in the running process (docs/benchmarks.md, *What was cut from the handshake*), and the
 * contract is small. `claims.unit.test.ts` holds the contract as a zod schema too and checks, with
 * generated payloads, that both accept exactly the same ones.
 */
import { ID_PATTERN, ROLES, type Role } from '@payments-system/protocol';

/** A verified token's payload that holds to the contract (unknown claims are ignored). */
export interface AccessTokenPayload {
  readonly userId: string;
  readonly email: string;
  readonly role: Role;
  /** Expiry, in seconds since the epoch. */
  readonly exp: number;
  /** Login session, when the token came from a login. */
  readonly sid?: string;
  readonly iat?: number;
  readonly nbf?: number;
}

export const EMAIL_MIN_LENGTH = 3;
export const EMAIL_MAX_LENGTH = 254;

/**
 * Whether a token’s payload holds to the contract: an object with `userId` an id,
 * `email` a string of 3–254 characters, `role` one of ROLES, `exp` a positive integer, and, when
 * present, `sid` an id and `iat` and `nbf` non-negative integers. Integers are safe integers.
 */
export function isAccessTokenPayload(payload: unknown): payload is AccessTokenPayload {
  if (typeof payload !== 'object' || payload === null) return false;
  const { userId, email, role, exp, sid, iat, nbf } = payload as Record<string, unknown>;
  return (
    isId(userId) &&
    typeof email === 'string' &&
    email.length >= EMAIL_MIN_LENGTH &&
    email.length <= EMAIL_MAX_LENGTH &&
    isRole(role) &&
    Number.isSafeInteger(exp) &&
    (exp as number) > 0 &&
    (sid === undefined || isId(sid)) &&
    (iat === undefined || isNonNegativeInteger(iat)) &&
    (nbf === undefined || isNonNegativeInteger(nbf))
  );
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

function isNonNegativeInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
