/** The real gateway process: start-up, configuration errors, graceful shutdown. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { CloseCode } from '@payments-system/protocol';
import { signAccessToken } from '../src/auth/tokens.ts';
import { connect } from './support/client.ts';
import { ALICE, BOB } from './support/gateway.ts';
import { listeningUrl, spawnGateway } from './support/process.ts';

const secret = randomBytes(32).toString('hex');

describe('gateway process', () => {
  it('prints a listening line and serves /api/health', async () => {
    const gateway = spawnGateway({ JWT_SECRET: secret });
    const url = listeningUrl(await gateway.waitForLine(/listening/));
    const response = await fetch(`${url}/api/health`);
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { status: string }).status, 'ok');
    gateway.child.kill('SIGTERM');
    assert.deepEqual(await gateway.exited, { code: 0, signal: null });
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`on ${signal}: stops accepting, closes every socket with 1001, exits 0`, async () => {
      const gateway = spawnGateway({ JWT_SECRET: secret });
      const url = listeningUrl(await gateway.waitForLine(/listening/));
      const wsUrl = `${url.replace('http', 'ws')}/ws`;
      const clients = await Promise.all([ALICE, ALICE, BOB].map((who) => connect(wsUrl, signAccessToken(secret, who))));
      gateway.child.kill(signal);
      for (const client of clients) {
        const closed = await client.closed;
        assert.equal(closed.code, CloseCode.GoingAway);
        assert.equal(closed.reason, 'server shutting down');
      }
      assert.deepEqual(await gateway.exited, { code: 0, signal: null });
      await assert.rejects(fetch(`${url}/api/health`), 'no longer accepting connections');
    });
  }

  const badConfigs: Array<[string, Record<string, string>, RegExp]> = [
    ['JWT_SECRET missing', {}, /JWT_SECRET is required/],
    ['JWT_SECRET too short', { JWT_SECRET: 'short' }, /JWT_SECRET must be at least 32 characters/],
    ['PORT not a number', { JWT_SECRET: secret, PORT: 'eighty' }, /PORT/],
    ['PORT out of range', { JWT_SECRET: secret, PORT: '70000' }, /PORT/],
    ['HEARTBEAT_INTERVAL_MS negative', { JWT_SECRET: secret, HEARTBEAT_INTERVAL_MS: '-5' }, /HEARTBEAT_INTERVAL_MS/],
    [
      'HEARTBEAT_TIMEOUT_MS not below the interval',
      { JWT_SECRET: secret, HEARTBEAT_INTERVAL_MS: '1000', HEARTBEAT_TIMEOUT_MS: '1000' },
      /HEARTBEAT_TIMEOUT_MS \(1000\) must be less than HEARTBEAT_INTERVAL_MS/,
    ],
    ['WS_ALLOWED_ORIGINS not origins', { JWT_SECRET: secret, WS_ALLOWED_ORIGINS: 'not a url' }, /WS_ALLOWED_ORIGINS/],
    ['WS_MAX_PAYLOAD_BYTES zero', { JWT_SECRET: secret, WS_MAX_PAYLOAD_BYTES: '0' }, /WS_MAX_PAYLOAD_BYTES/],
    ['LOG_LEVEL unknown', { JWT_SECRET: secret, LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
  ];
  for (const [what, env, message] of badConfigs) {
    it(`exits non-zero naming the variable when ${what}`, async () => {
      const gateway = spawnGateway(env);
      const { code } = await gateway.exited;
      assert.equal(code, 1);
      assert.match(gateway.output.join('\n'), message);
      assert.doesNotMatch(gateway.output.join('\n'), /listening/);
    });
  }
});

describe('demo process (npm start)', () => {
  it('runs on embedded defaults: generated secret, demo users, simulator', async () => {
    const demo = spawnGateway({}, 'gateway/src/demo.ts');
    const url = listeningUrl(await demo.waitForLine(/listening/));
    const accounts = (await (await fetch(`${url}/api/auth/demo-accounts`)).json()) as { accounts: Array<{ email: string; password: string }> };
    const alice = accounts.accounts.find((account) => account.email === 'alice@demo.test');
    assert.ok(alice);
    const login = await fetch(`${url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: alice.email, password: alice.password }),
    });
    assert.equal(login.status, 200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    const client = await connect(`${url.replace('http', 'ws')}/ws`, accessToken);
    assert.equal((await client.request({ type: 'ping' })).type, 'pong');
    assert.match(demo.output.join('\n'), /alice@demo\.test\s+password: alice-demo/);
    demo.child.kill('SIGTERM');
    assert.equal((await demo.exited).code, 0);
  });
});
