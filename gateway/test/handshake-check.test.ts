/**
 * `GET /ws` (no upgrade) answers what a handshake with the same token would get: 204 where the upgrade gives 101,
 * 401 where it refuses the token. The Angular library relies on it to tell a refused token from an outage.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import { connect, refusedHandshake } from './support/client.ts';
import { ALICE, startDemoGateway, type TestGateway } from './support/gateway.ts';

const check = (gateway: TestGateway, token?: string, scheme = 'Bearer') =>
  fetch(`${gateway.url}/ws`, { headers: token === undefined ? {} : { authorization: `${scheme} ${token}` } });

async function login(gateway: TestGateway): Promise<string> {
  const response = await fetch(`${gateway.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'alice@demo.test', password: 'alice-demo' }),
  });
  return ((await response.json()) as { accessToken: string }).accessToken;
}

describe('the handshake check (GET /ws without an upgrade)', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startDemoGateway({ demoUsers: true });
  });

  it('answers 204 for a token the handshake accepts, without caching', async () => {
    const token = gateway.token(ALICE);
    const response = await check(gateway, token);
    assert.equal(response.status, 204);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    (await connect(gateway.wsUrl, token)).close();
  });

  const refused: Array<[string, (g: TestGateway) => string | undefined]> = [
    ['no token', () => undefined],
    ['a token signed with another secret (a restarted gateway)', () => jwt.sign({ ...ALICE }, 'y'.repeat(40), { algorithm: 'HS256', expiresIn: 60 })],
    ['an expired token', (g) => jwt.sign({ ...ALICE, exp: Math.floor(Date.now() / 1000) - 10 }, g.secret, { algorithm: 'HS256' })],
    ['a malformed token', () => 'not-a-jwt'],
  ];
  for (const [what, token] of refused) {
    it(`answers 401 UNAUTHORIZED for ${what}, as the handshake does`, async () => {
      const response = await check(gateway, token(gateway));
      assert.equal(response.status, 401);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'UNAUTHORIZED');
      assert.equal((await refusedHandshake(gateway.wsUrl, token(gateway))).status, 401);
    });
  }

  it('answers 401 for the token of a session that ended (logout), as the handshake does', async () => {
    const token = await login(gateway);
    assert.equal((await check(gateway, token)).status, 204);
    await fetch(`${gateway.url}/api/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    assert.equal((await check(gateway, token)).status, 401);
    assert.equal((await refusedHandshake(gateway.wsUrl, token)).status, 401);
  });

  it('reads the token from the Authorization header only (never from the query)', async () => {
    const token = gateway.token(ALICE);
    assert.equal((await fetch(`${gateway.url}/ws?token=${token}`)).status, 401);
    assert.equal((await check(gateway, token, 'Basic')).status, 401);
  });
});
