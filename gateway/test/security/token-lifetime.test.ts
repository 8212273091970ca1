/**
 * Token lifetime on every path that takes a token: the handshake and the HTTP API both refuse a
 * token living longer than JWT_MAX_TTL_SECONDS, or issued further in the future than
 * JWT_CLOCK_SKEW_SECONDS, and accept one within the skew.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import { connect, refusedHandshake } from '../support/client.ts';
import { ALICE, callApi, startDemoGateway, type TestGateway } from '../support/gateway.ts';

const now = () => Math.floor(Date.now() / 1000);

describe('token lifetime (JWT_MAX_TTL_SECONDS 3600, JWT_CLOCK_SKEW_SECONDS 30)', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startDemoGateway({ jwtMaxTtlSeconds: 3600, jwtClockSkewSeconds: 30 });
  });
  const sign = (claims: { iat?: number; exp: number }) =>
    jwt.sign({ ...ALICE, ...claims }, gateway.secret, { algorithm: 'HS256', noTimestamp: claims.iat === undefined });

  const refused: Array<[string, () => { iat?: number; exp: number }, RegExp]> = [
    ['a token valid for 100 years', () => ({ iat: now(), exp: now() + 100 * 365 * 86_400 }), /token lifetime too long/],
    ['a token living one hour and a minute', () => ({ iat: now(), exp: now() + 3660 }), /token lifetime too long/],
    ['a token without iat whose exp is a day away', () => ({ exp: now() + 86_400 }), /token lifetime too long/],
    ['a token issued a minute in the future', () => ({ iat: now() + 60, exp: now() + 600 }), /token issued in future/],
  ];
  for (const [what, claims, message] of refused) {
    it(`refuses ${what}, at the handshake (401) and on the HTTP API (401)`, async () => {
      const token = sign(claims());
      const handshake = await refusedHandshake(gateway.wsUrl, token);
      assert.equal(handshake.status, 401);
      assert.match(handshake.body, message);
      const api = await callApi(gateway, 'GET', '/api/payments', token);
      assert.equal(api.status, 401);
      assert.match(await api.text(), message);
    });
  }

  it('accepts a token issued within the skew, on both paths', async () => {
    const token = sign({ iat: now() + 10, exp: now() + 600 });
    const client = await connect(gateway.wsUrl, token);
    assert.equal((await client.request({ type: 'ping' })).type, 'pong');
    assert.equal((await callApi(gateway, 'GET', '/api/payments', token)).status, 200);
  });

  it('counts refusals by reason', async () => {
    const count = async (reason: string) =>
      Number(new RegExp(`gateway_auth_failures_total\\{reason="${reason}"\\} (\\d+)`).exec(await (await fetch(`${gateway.url}/metrics`)).text())?.[1] ?? 0);
    const [tooLong, future] = [await count('lifetime_too_long'), await count('issued_in_future')];
    await refusedHandshake(gateway.wsUrl, sign({ iat: now(), exp: now() + 7200 }));
    await callApi(gateway, 'GET', '/api/payments', sign({ iat: now() + 600, exp: now() + 1200 }));
    assert.equal(await count('lifetime_too_long'), tooLong + 1);
    assert.equal(await count('issued_in_future'), future + 1);
  });
});
