/**
 * The claims check against the contract stated as a zod schema (what the gateway ran before the
 * check was written by hand): over generated payloads, near-valid ones with one field replaced by
 * anything JSON can carry or by an edge value, both accept exactly the same.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { z } from 'zod';
import { ID_PATTERN, ROLES } from '@payments-system/protocol';
import { EMAIL_MAX_LENGTH, EMAIL_MIN_LENGTH, isAccessTokenPayload } from './claims.ts';

const contract = z.object({
  userId: z.string().regex(ID_PATTERN),
  email: z.string().min(EMAIL_MIN_LENGTH).max(EMAIL_MAX_LENGTH),
  role: z.enum(ROLES),
  exp: z.number().int().positive(),
  sid: z.string().regex(ID_PATTERN).optional(),
  iat: z.number().int().nonnegative().optional(),
  nbf: z.number().int().nonnegative().optional(),
});

const FIELDS = ['userId', 'email', 'role', 'exp', 'sid', 'iat', 'nbf'] as const;

/** Values at the edges of each field's rule, and of what a JSON parse can produce. */
const edge = fc.constantFrom<unknown>(
  0, -0, 1, -1, 0.5, 2 ** 53 - 1, 2 ** 53, -(2 ** 53), Infinity, -Infinity, NaN, 1e400, '', 'ab', 'abc', 'a'.repeat(254), 'a'.repeat(255),
  'a'.repeat(128), 'a'.repeat(129), 'u 1', 'u\n', 'user:1', 'ADMIN', 'admin', 'CUSTOMER ', 'VENDOR', null, true, [], {}, ['ADMIN'], '1',
);
const id = fc.stringMatching(/^[A-Za-z0-9_.@-]{1,130}$/);
const valid = fc.record(
  {
    userId: id,
    email: fc.string({ minLength: 1, maxLength: 260 }),
    role: fc.constantFrom(...ROLES),
    exp: fc.integer({ min: -5, max: 2 ** 40 }),
    sid: id,
    iat: fc.integer({ min: -5, max: 2 ** 40 }),
    nbf: fc.integer({ min: -5, max: 2 ** 40 }),
  },
  { requiredKeys: ['userId', 'email', 'role', 'exp'] },
);
/** A payload near the contract: some fields replaced, removed, or extra keys added. */
const payload = fc
  .tuple(
    valid,
    fc.array(fc.tuple(fc.constantFrom(...FIELDS), fc.oneof(edge, fc.jsonValue(), fc.constant(undefined))), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue(), { maxKeys: 3 }),
  )
  .map(([base, replaced, extra]) => {
    const value: Record<string, unknown> = { ...extra, ...base };
    for (const [field, replacement] of replaced) {
      if (replacement === undefined) delete value[field];
      else value[field] = replacement;
    }
    return value;
  });

describe('isAccessTokenPayload', () => {
  it('accepts exactly the payloads the zod statement of the contract accepts', () => {
    fc.assert(
      fc.property(fc.oneof(payload, fc.jsonValue(), edge), (value) => {
        assert.equal(isAccessTokenPayload(value), contract.safeParse(value).success, JSON.stringify(value));
      }),
      { numRuns: 5000 },
    );
  });

  it('accepts a login token’s payload and refuses one without a role or with an unknown one', () => {
    const login = { userId: 'u1', email: 'u1@x.test', role: 'CUSTOMER', exp: 1_800_000_000, iat: 1_799_999_100, sid: 's1' };
    assert.equal(isAccessTokenPayload(login), true);
    assert.equal(isAccessTokenPayload({ ...login, role: undefined }), false);
    assert.equal(isAccessTokenPayload({ ...login, role: 'ROOT' }), false);
    assert.equal(isAccessTokenPayload([login]), false);
  });
});
