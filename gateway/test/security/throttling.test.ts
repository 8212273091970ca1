/**
 * What one account, client address or user may cost: logins throttled per account and per
 * address (in memory, or shared in Redis by every gateway), payment creation per user, and the
 * payment store bounded per owner so that one user's volume never evicts another's payments.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startRedis } from '../bus/redis-server.ts';
import { ALICE, BOB, callApi, startDemoGateway, type TestGateway } from '../support/gateway.ts';

function login(gateway: TestGateway, email: string, password: string, forwardedFor?: string): Promise<Response> {
  return fetch(`${gateway.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(forwardedFor !== undefined && { 'x-forwarded-for': forwardedFor }) },
    body: JSON.stringify({ email, password }),
  });
}

async function assertThrottled(response: Response, windowSeconds: number): Promise<string> {
  assert.equal(response.status, 429);
  const retryAfter = Number(response.headers.get('retry-after'));
  assert.ok(retryAfter >= 1 && retryAfter <= windowSeconds, `Retry-After ${retryAfter}`);
  const { error } = (await response.json()) as { error: { code: string; message: string } };
  assert.equal(error.code, 'RATE_LIMITED');
  return error.message;
}

async function metric(gateway: TestGateway, sample: string): Promise<number> {
  const text = await (await fetch(`${gateway.url}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}

describe('login throttling', () => {
  const options = { demoUsers: true, loginMaxAttemptsPerAccount: 3, loginMaxAttemptsPerAddress: 50, loginThrottleWindowSeconds: 600 };

  it('answers 429 with Retry-After once an account has used its attempts, even with the right password; other accounts are unaffected', async () => {
    const gateway = await startDemoGateway(options);
    for (let i = 0; i < 3; i++) assert.equal((await login(gateway, 'alice@demo.test', 'wrong')).status, 401);
    assert.match(await assertThrottled(await login(gateway, 'ALICE@demo.test', 'alice-demo'), 600), /too many login attempts; retry in \d+ s/);
    assert.equal((await login(gateway, 'bob@demo.test', 'bob-demo')).status, 200);
    assert.equal(await metric(gateway, 'gateway_logins_throttled_total{scope="account"}'), 1);
  });

  it('counts unknown emails alike, so a 429 says nothing about who has an account', async () => {
    const gateway = await startDemoGateway(options);
    for (let i = 0; i < 3; i++) assert.equal((await login(gateway, 'nobody@demo.test', 'wrong')).status, 401);
    await assertThrottled(await login(gateway, 'nobody@demo.test', 'wrong'), 600);
  });

  it('gives an account its attempts back when it logs in', async () => {
    const gateway = await startDemoGateway(options);
    for (let i = 0; i < 2; i++) assert.equal((await login(gateway, 'alice@demo.test', 'wrong')).status, 401);
    assert.equal((await login(gateway, 'alice@demo.test', 'alice-demo')).status, 200);
    for (let i = 0; i < 2; i++) assert.equal((await login(gateway, 'alice@demo.test', 'wrong')).status, 401);
    assert.equal((await login(gateway, 'alice@demo.test', 'alice-demo')).status, 200);
  });

  it('limits attempts per client address across accounts; a forged X-Forwarded-For does not escape it', async () => {
    const gateway = await startDemoGateway({ ...options, loginMaxAttemptsPerAccount: 100, loginMaxAttemptsPerAddress: 4 });
    for (let i = 0; i < 4; i++) assert.equal((await login(gateway, `user${i}@demo.test`, 'x', `198.51.100.${i}`)).status, 401);
    await assertThrottled(await login(gateway, 'bob@demo.test', 'bob-demo', '198.51.100.99'), 600);
    assert.equal(await metric(gateway, 'gateway_logins_throttled_total{scope="address"}'), 1);
  });

  it('behind a proxy (TRUST_PROXY_HOPS=1) counts the address the proxy saw, each on its own', async () => {
    const gateway = await startDemoGateway({ ...options, loginMaxAttemptsPerAccount: 100, loginMaxAttemptsPerAddress: 2, trustProxyHops: 1 });
    for (let i = 0; i < 2; i++) assert.equal((await login(gateway, 'x@demo.test', 'x', '203.0.113.1')).status, 401);
    await assertThrottled(await login(gateway, 'x@demo.test', 'x', '203.0.113.1'), 600);
    // What the client itself put in front of the proxy's entry changes nothing.
    await assertThrottled(await login(gateway, 'x@demo.test', 'x', '192.0.2.77, 203.0.113.1'), 600);
    assert.equal((await login(gateway, 'bob@demo.test', 'bob-demo', '203.0.113.2')).status, 200);
  });

  it('with REDIS_URL, counts on every gateway together', async () => {
    const redis = await startRedis({ persistent: false });
    const first = await startDemoGateway({ ...options, redisUrl: redis.url });
    const second = await startDemoGateway({ ...options, redisUrl: redis.url });
    for (let i = 0; i < 3; i++) assert.equal((await login(i % 2 === 0 ? first : second, 'alice@demo.test', 'wrong')).status, 401);
    await assertThrottled(await login(second, 'alice@demo.test', 'alice-demo'), 600);
    await assertThrottled(await login(first, 'alice@demo.test', 'alice-demo'), 600);
  });
});

describe('payment creation', () => {
  const create = (gateway: TestGateway, token: string, description: string) =>
    callApi(gateway, 'POST', '/api/payments', token, { amount: '10.00', currency: 'EUR', description });

  it('is limited per user per minute (429 with Retry-After); other users are unaffected', async () => {
    const gateway = await startDemoGateway({ paymentsPerUserPerMinute: 3 });
    for (let i = 0; i < 3; i++) assert.equal((await create(gateway, gateway.token(ALICE), `p${i}`)).status, 201);
    assert.match(await assertThrottled(await create(gateway, gateway.token(ALICE), 'one too many'), 60), /too many payments created/);
    assert.equal((await create(gateway, gateway.token(BOB), 'bob')).status, 201);
    assert.equal(await metric(gateway, 'gateway_payments_throttled_total'), 1);
  });

  it('never costs another user their payments: past PAYMENTS_MAX_PER_USER a user loses only their own oldest', async () => {
    const gateway = await startDemoGateway({ paymentsMaxPerUser: 3 });
    assert.equal((await create(gateway, gateway.token(BOB), 'bob keeps this')).status, 201);
    for (let i = 0; i < 10; i++) assert.equal((await create(gateway, gateway.token(ALICE), `alice ${i}`)).status, 201);
    const list = async (token: string) =>
      ((await (await callApi(gateway, 'GET', '/api/payments', token)).json()) as { payments: Array<{ description: string }> }).payments.map((p) => p.description);
    assert.deepEqual(await list(gateway.token(BOB)), ['bob keeps this']);
    assert.deepEqual(await list(gateway.token(ALICE)), ['alice 9', 'alice 8', 'alice 7']);
  });
});
