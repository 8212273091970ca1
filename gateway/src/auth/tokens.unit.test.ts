import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import { AuthFailure, signAccessToken, TokenVerifier, VERIFIED_TOKENS_CACHED } from './tokens.ts';

const secret = 'k'.repeat(32);
const subject = { userId: 'u1', email: 'u1@x.test', role: 'CUSTOMER' } as const;

/** A verifier on a clock the test moves. */
function verifierAt(start: number, isRevoked: (sessionId: string) => boolean = () => false) {
  let now = start;
  const verifier = new TokenVerifier(secret, { isSessionRevoked: isRevoked, nowSeconds: () => now, maxTtlSeconds: 3600, clockSkewSeconds: 30 });
  return { verifier, advanceTo: (seconds: number) => void (now = seconds) };
}

function reason(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof AuthFailure, `not an AuthFailure: ${String(error)}`);
    return error.reason;
  }
  return 'accepted';
}

describe('TokenVerifier', () => {
  it('answers a token seen before from its cache, with the same claims', () => {
    const token = signAccessToken(secret, subject, { expiresInSeconds: 60 });
    const { verifier } = verifierAt(Math.floor(Date.now() / 1000));
    const first = verifier.verify(token, { remember: true });
    assert.deepEqual({ ...first }, { ...subject, exp: first.exp });
    assert.equal(verifier.verify(token, { remember: true }), first, 'the second verification returns the remembered claims');
    assert.equal(verifier.cachedTokens, 1);
    assert.ok(Object.isFrozen(first), 'shared claims cannot be changed by one caller for the others');
  });

  it('refuses a remembered token from the second of its exp on', () => {
    const token = signAccessToken(secret, subject, { expiresInSeconds: 60 });
    const { exp } = jwt.decode(token) as { exp: number };
    const { verifier, advanceTo } = verifierAt(exp - 60);
    assert.equal(reason(() => verifier.verify(token, { remember: true })), 'accepted');
    advanceTo(exp - 1);
    assert.equal(reason(() => verifier.verify(token, { remember: true })), 'accepted');
    advanceTo(exp);
    assert.equal(reason(() => verifier.verify(token, { remember: true })), 'expired');
  });

  it('refuses a token carrying the claims of a remembered one under another signature', () => {
    const token = signAccessToken(secret, subject, { expiresInSeconds: 60 });
    const { verifier } = verifierAt(Math.floor(Date.now() / 1000));
    verifier.verify(token, { remember: true });
    const [header, payload] = token.split('.');
    const forged = `${header}.${payload}.${Buffer.from('x'.repeat(32)).toString('base64url')}`;
    assert.equal(reason(() => verifier.verify(forged, { remember: true })), 'invalid_signature');
    const otherKey = signAccessToken('o'.repeat(32), subject, { expiresInSeconds: 60 });
    assert.equal(reason(() => verifier.verify(otherKey, { remember: true })), 'invalid_signature');
  });

  it('still checks revocation when the token is remembered', () => {
    const revoked = new Set<string>();
    const token = signAccessToken(secret, { ...subject, sessionId: 's_1' }, { expiresInSeconds: 60 });
    const { verifier } = verifierAt(Math.floor(Date.now() / 1000), (sessionId) => revoked.has(sessionId));
    assert.equal(reason(() => verifier.authenticate(token, { remember: true })), 'accepted');
    revoked.add('s_1');
    assert.equal(reason(() => verifier.authenticate(token, { remember: true })), 'revoked');
  });

  it('remembers at most VERIFIED_TOKENS_CACHED tokens', () => {
    const { verifier } = verifierAt(Math.floor(Date.now() / 1000));
    const tokens = Array.from({ length: VERIFIED_TOKENS_CACHED + 50 }, (_, i) =>
      signAccessToken(secret, { ...subject, userId: `u${i}` }, { expiresInSeconds: 60 }),
    );
    for (const token of tokens) verifier.verify(token, { remember: true });
    assert.equal(verifier.cachedTokens, VERIFIED_TOKENS_CACHED);
    assert.equal(verifier.verify(tokens[0], { remember: true }).userId, 'u0', 'an evicted token is verified again');
  });

  it('remembers only when asked (handshakes read the cache without filling it)', () => {
    const token = signAccessToken(secret, subject, { expiresInSeconds: 60 });
    const { verifier } = verifierAt(Math.floor(Date.now() / 1000));
    const handshake = verifier.verify(token);
    assert.equal(verifier.cachedTokens, 0);
    assert.notEqual(verifier.verify(token), handshake, 'verified again');
    const remembered = verifier.verify(token, { remember: true });
    assert.equal(verifier.verify(token), remembered, 'a later handshake with the same token hits');
  });

  it('never remembers a refused token', () => {
    const { verifier } = verifierAt(Math.floor(Date.now() / 1000));
    const expired = signAccessToken(secret, subject, { expiresInSeconds: -10 });
    assert.equal(reason(() => verifier.verify(expired, { remember: true })), 'expired');
    assert.equal(reason(() => verifier.verify('not.a.jwt', { remember: true })), 'malformed');
    assert.equal(verifier.cachedTokens, 0);
  });

  describe('lifetime (JWT_MAX_TTL_SECONDS 3600, JWT_CLOCK_SKEW_SECONDS 30 here)', () => {
    const now = 2_000_000_000;
    const sign = (claims: Record<string, number>) =>
      jwt.sign({ ...subject, ...claims }, secret, { algorithm: 'HS256', noTimestamp: !('iat' in claims) });

    const cases: Array<[string, Record<string, number>, string]> = [
      ['exactly the maximum lifetime', { iat: now, exp: now + 3600 }, 'accepted'],
      ['a lifetime one second over the maximum', { iat: now, exp: now + 3601 }, 'lifetime_too_long'],
      ['100 years ahead', { iat: now, exp: now + 100 * 365 * 86_400 }, 'lifetime_too_long'],
      ['no iat and an exp within the maximum', { exp: now + 3600 }, 'accepted'],
      ['no iat and an exp past the maximum (and the skew)', { exp: now + 3600 + 31 }, 'lifetime_too_long'],
      ['an old iat whose exp is still ahead: exp - iat counts', { iat: now - 3000, exp: now + 1000 }, 'lifetime_too_long'],
      ['iat within the skew in the future', { iat: now + 30, exp: now + 600 }, 'accepted'],
      ['iat beyond the skew in the future', { iat: now + 31, exp: now + 600 }, 'issued_in_future'],
      ['nbf within the skew', { iat: now, nbf: now + 30, exp: now + 600 }, 'accepted'],
      ['nbf beyond the skew', { iat: now, nbf: now + 31, exp: now + 600 }, 'not_yet_valid'],
      ['exp reached (no skew on exp)', { iat: now - 600, exp: now }, 'expired'],
    ];
    for (const [what, claims, expected] of cases) {
      it(`${expected === 'accepted' ? 'accepts' : 'refuses'} ${what}`, () => {
        const { verifier } = verifierAt(now);
        assert.equal(reason(() => verifier.verify(sign(claims), { remember: true })), expected);
      });
    }

    it('names the reason in the message a client sees', () => {
      const { verifier } = verifierAt(now);
      assert.throws(() => verifier.verify(sign({ iat: now, exp: now + 7200 })), { message: 'token lifetime too long' });
      assert.throws(() => verifier.verify(sign({ iat: now + 600, exp: now + 1200 })), { message: 'token issued in future' });
    });
  });
});
