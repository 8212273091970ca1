/** Login, refresh rotation and reuse detection, logout across tabs and devices. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { CloseCode } from '@payments-system/protocol';
import { connect, refusedHandshake } from './support/client.ts';
import { body, startDemoGateway, type TestGateway } from './support/gateway.ts';

interface Tokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user: { userId: string; email: string; role: string; name: string };
}

const post = (gateway: TestGateway, path: string, json: unknown, token?: string) =>
  fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(json),
  });

async function login(gateway: TestGateway, email: string, password: string): Promise<Tokens> {
  const response = await post(gateway, '/api/auth/login', { email, password });
  assert.equal(response.status, 200);
  return (await response.json()) as Tokens;
}

describe('auth API', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startDemoGateway({ demoUsers: true, accessTokenTtlSeconds: 60 });
  });

  it('logs a demo user in with short-lived access and opaque refresh tokens', async () => {
    const tokens = await login(gateway, 'alice@demo.test', 'alice-demo');
    assert.deepEqual(tokens.user, { userId: 'alice', email: 'alice@demo.test', name: 'Alice Customer', role: 'CUSTOMER' });
    assert.equal(tokens.expiresIn, 60);
    assert.doesNotMatch(tokens.refreshToken, /\./, 'refresh tokens are opaque, not JWTs');
    const client = await connect(gateway.wsUrl, tokens.accessToken);
    assert.equal((await client.request({ type: 'ping' })).type, 'pong');
  });

  for (const [what, email, password] of [
    ['a wrong password', 'alice@demo.test', 'wrong'],
    ['an unknown email', 'mallory@demo.test', 'alice-demo'],
  ] as const) {
    it(`refuses ${what} with 401 and the same message`, async () => {
      const response = await post(gateway, '/api/auth/login', { email, password });
      assert.equal(response.status, 401);
      assert.deepEqual(await body(response), { error: { code: 'UNAUTHORIZED', message: 'invalid email or password' } });
    });
  }

  it('answers a malformed login body with 400 naming the field', async () => {
    const response = await post(gateway, '/api/auth/login', { email: 'alice@demo.test' });
    assert.equal(response.status, 400);
    assert.match((await body(response)).error?.message ?? '', /password/);
  });

  it('rotates refresh tokens and revokes the family when a used one comes back', async () => {
    const first = await login(gateway, 'bob@demo.test', 'bob-demo');
    const refreshed = await post(gateway, '/api/auth/refresh', { refreshToken: first.refreshToken });
    assert.equal(refreshed.status, 200);
    const second = (await refreshed.json()) as Tokens;
    assert.notEqual(second.refreshToken, first.refreshToken);
    assert.equal((await connect(gateway.wsUrl, second.accessToken)).ws.protocol, 'bearer');

    const replay = await post(gateway, '/api/auth/refresh', { refreshToken: first.refreshToken });
    assert.equal(replay.status, 401);
    assert.equal((await body(replay)).error?.message, 'refresh token reused');
    const afterTheft = await post(gateway, '/api/auth/refresh', { refreshToken: second.refreshToken });
    assert.equal(afterTheft.status, 401, 'the legitimate holder is out too');
    assert.equal((await refusedHandshake(gateway.wsUrl, second.accessToken)).status, 401, 'and so are its access tokens');
  });

  it('logout tells every socket of the user (tabs and devices), closes them with 4003, and ends their sessions', async () => {
    const laptop = await login(gateway, 'alice@demo.test', 'alice-demo');
    const phone = await login(gateway, 'alice@demo.test', 'alice-demo');
    const bob = await login(gateway, 'bob@demo.test', 'bob-demo');
    const tab1 = await connect(gateway.wsUrl, laptop.accessToken);
    const tab2 = await connect(gateway.wsUrl, laptop.accessToken);
    const phoneSocket = await connect(gateway.wsUrl, phone.accessToken);
    const bobSocket = await connect(gateway.wsUrl, bob.accessToken);

    const response = await post(gateway, '/api/auth/logout', {}, laptop.accessToken);
    assert.equal(response.status, 204);
    for (const socket of [tab1, tab2, phoneSocket]) {
      const sync = await socket.next('session:sync');
      assert.equal(sync.payload.userId, 'alice');
      assert.equal(sync.payload.action, 'logout');
      assert.equal((await socket.closed).code, CloseCode.SessionRevoked);
    }
    assert.equal((await refusedHandshake(gateway.wsUrl, phone.accessToken)).status, 401, "the phone's token is revoked");
    assert.equal((await post(gateway, '/api/auth/refresh', { refreshToken: phone.refreshToken })).status, 401);
    assert.equal((await bobSocket.request({ type: 'ping' })).type, 'pong', 'other users are untouched');
    assert.equal(bobSocket.unread().filter((m) => m.type === 'session:sync').length, 0);
    // A fresh login works at once.
    const again = await login(gateway, 'alice@demo.test', 'alice-demo');
    assert.equal((await connect(gateway.wsUrl, again.accessToken)).ws.protocol, 'bearer');
  });

  it('refuses logout without a token', async () => {
    assert.equal((await post(gateway, '/api/auth/logout', {})).status, 401);
  });

  it('lists the demo accounts in demo mode only', async () => {
    const listed = (await (await fetch(`${gateway.url}/api/auth/demo-accounts`)).json()) as { accounts: Array<{ email: string }> };
    assert.deepEqual(listed.accounts.map((account) => account.email), ['admin@demo.test', 'alice@demo.test', 'bob@demo.test', 'vendor@demo.test']);
    const production = await startDemoGateway();
    assert.equal((await fetch(`${production.url}/api/auth/demo-accounts`)).status, 404);
    assert.equal((await post(production, '/api/auth/login', { email: 'alice@demo.test', password: 'alice-demo' })).status, 401);
  });
});
