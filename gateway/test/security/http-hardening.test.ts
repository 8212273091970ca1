/**
 * The HTTP side of the gateway: security headers on every answer, errors that say what the client
 * got wrong and nothing of the server, request timeouts, Node's parser errors answered like every
 * other error, and /metrics for the scraper only.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { startRedis } from '../bus/redis-server.ts';
import { connect } from '../support/client.ts';
import { ALICE, startDemoGateway, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { errorOf, rawRequest, upgradeRequest } from '../support/raw-http.ts';

const appDir = mkdtempSync(join(tmpdir(), 'app-without-index-'));
writeFileSync(join(appDir, 'main-AB12CD34.js'), 'console.log(1)');

/** Headers every gateway answer carries, whatever produced it. */
function assertSecurityHeaders(headers: Headers | Readonly<Record<string, string>>, what: string): void {
  const get = (name: string) => (headers instanceof Headers ? headers.get(name) : headers[name]) ?? '';
  assert.equal(get('x-content-type-options'), 'nosniff', `${what}: X-Content-Type-Options`);
  assert.equal(get('x-frame-options'), 'DENY', `${what}: X-Frame-Options`);
  assert.match(get('content-security-policy'), /frame-ancestors 'none'/, `${what}: CSP frame-ancestors`);
  assert.equal(get('referrer-policy'), 'no-referrer', `${what}: Referrer-Policy`);
}

describe('HTTP hardening', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startDemoGateway({ staticDir: appDir, demoUsers: true, maxPayloadBytes: 2048, httpHeadersTimeoutMs: 300, httpRequestTimeoutMs: 600 });
  });

  it('sends the security headers on every kind of answer, and no-store on API answers and errors', async () => {
    const api = await fetch(`${gateway.url}/api/health`);
    assertSecurityHeaders(api.headers, 'API');
    assert.equal(api.headers.get('cache-control'), 'no-store');
    const asset = await fetch(`${gateway.url}/main-AB12CD34.js`);
    assert.equal(asset.status, 200);
    assertSecurityHeaders(asset.headers, 'static file');
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const unauthorized = await fetch(`${gateway.url}/api/payments`);
    assert.equal(unauthorized.status, 401);
    assertSecurityHeaders(unauthorized.headers, '401');
    assert.equal(unauthorized.headers.get('cache-control'), 'no-store');
    const missing = await fetch(`${gateway.url}/nothing-here.js`);
    assert.equal(missing.status, 404);
    assertSecurityHeaders(missing.headers, '404');
    const refused = await rawRequest(gateway.port, upgradeRequest('/ws'));
    assert.equal(refused.status, 401);
    assertSecurityHeaders(refused.headers, 'refused handshake');
    assert.equal(refused.headers['cache-control'], 'no-store');
    const malformed = await rawRequest(gateway.port, 'NOT A REQUEST\r\n\r\n');
    assertSecurityHeaders(malformed.headers, 'malformed request');
  });

  it('answers a 404 of the static app without the server\'s file path', async () => {
    // No index.html in the folder: @koa/send's ENOENT error named its path, and was rendered.
    const response = await fetch(`${gateway.url}/payments/pay_1`);
    assert.equal(response.status, 404);
    const text = await response.text();
    assert.doesNotMatch(text, /ENOENT|stat|index\.html/);
    assert.ok(!text.includes(appDir), text);
    assert.deepEqual(JSON.parse(text), { error: { code: 'NOT_FOUND', message: 'not found' } });
  });

  it('refuses a path that leaves the app folder with its own words', async () => {
    const response = await fetch(`${gateway.url}/..%2f..%2fetc%2fpasswd`);
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), { error: { code: 'BAD_REQUEST', message: 'invalid path' } });
  });

  it('says what is wrong with a body, never the parser\'s message', async () => {
    const post = (body: string, type = 'application/json') =>
      fetch(`${gateway.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': type }, body });
    const cases: Array<[string, string, number, string]> = [
      ['truncated JSON', '{"email":', 400, 'body is not valid JSON'],
      ['a stray token', '{"email": x}', 400, 'body is not valid JSON'],
      ['too large', JSON.stringify({ email: 'a'.repeat(5000) }), 413, 'body larger than 2048 bytes'],
    ];
    for (const [what, body, status, message] of cases) {
      const response = await post(body);
      assert.equal(response.status, status, what);
      assert.deepEqual(await response.json(), { error: { code: status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST', message } }, what);
    }
  });

  it('answers a request whose body does not arrive in time with 408, within HTTP_REQUEST_TIMEOUT_MS and a check interval', async () => {
    const started = performance.now();
    const response = await rawRequest(
      gateway.port,
      'POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"email":',
      { keepOpen: true, timeoutMs: 5000 },
    );
    const elapsed = performance.now() - started;
    assert.equal(response.status, 408);
    assert.equal(errorOf(response).code, 'REQUEST_TIMEOUT');
    assert.ok(elapsed >= 600, `answered after ${elapsed} ms`);
    console.log(`slow body answered 408 after ${Math.round(elapsed)} ms (HTTP_REQUEST_TIMEOUT_MS 600, checked every 300 ms)`);
  });

  it('answers headers that do not arrive in time with 408', async () => {
    const response = await rawRequest(gateway.port, 'GET /api/health HTTP/1.1\r\nHost: x\r\n', { keepOpen: true, timeoutMs: 5000 });
    assert.equal(response.status, 408);
    assert.equal(errorOf(response).code, 'REQUEST_TIMEOUT');
  });

  it('answers what Node\'s parser refuses (malformed line, headers too large) with JSON errors', async () => {
    const malformed = await rawRequest(gateway.port, 'GARBAGE\r\n\r\n');
    assert.equal(malformed.status, 400);
    assert.deepEqual(errorOf(malformed), { code: 'BAD_REQUEST', message: 'malformed HTTP request' });
    const huge = await rawRequest(gateway.port, `GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assert.equal(huge.status, 431);
    assert.equal(errorOf(huge).code, 'HEADERS_TOO_LARGE');
    assert.equal((await fetch(`${gateway.url}/api/health`)).status, 200);
  });

  it('answers an HTTP/1.1 request or upgrade without Host with a JSON 400 and the security headers (not Node\'s bare one)', async () => {
    const plain = await rawRequest(gateway.port, 'GET * HTTP/1.1\r\n\r\n');
    const upgrade = await rawRequest(gateway.port, upgradeRequest('/ws').replace('Host: 127.0.0.1\r\n', ''));
    for (const answer of [plain, upgrade]) {
      assert.equal(answer.status, 400);
      assert.deepEqual(errorOf(answer), { code: 'BAD_REQUEST', message: 'a Host header is required (HTTP/1.1)' });
      assert.equal(answer.headers['x-content-type-options'], 'nosniff');
      assert.equal(answer.headers['cache-control'], 'no-store');
    }
    const oldClient = await rawRequest(gateway.port, 'GET /api/health HTTP/1.0\r\n\r\n');
    assert.equal(oldClient.status, 200, 'HTTP/1.0 needs no Host');
  });

  it('lets WebSockets live past HTTP_REQUEST_TIMEOUT_MS (the timeout is the request\'s, not the socket\'s)', async () => {
    const client = await connect(gateway.wsUrl, gateway.token(ALICE));
    // A request timed out after the socket opened, so the timeout checks have run over the socket too.
    const slow = await rawRequest(gateway.port, 'GET /api/health HTTP/1.1\r\nHost: x\r\n', { keepOpen: true, timeoutMs: 5000 });
    assert.equal(slow.status, 408);
    assert.equal((await client.request({ type: 'ping' })).type, 'pong');
    await client.close();
  });
});

describe('/metrics access', () => {
  it('without METRICS_TOKEN: loopback clients only, never through a proxy', async () => {
    const gateway = await startTestGateway();
    assert.equal((await fetch(`${gateway.url}/metrics`)).status, 200);
    for (const header of ['x-forwarded-for', 'x-real-ip', 'forwarded']) {
      const relayed = await fetch(`${gateway.url}/metrics`, { headers: { [header]: '203.0.113.9' } });
      assert.equal(relayed.status, 403, header);
      assert.doesNotMatch(await relayed.text(), /gateway_/);
    }
  });

  it('with METRICS_TOKEN: only with that bearer token', async () => {
    const token = 'metrics-token-0123456789abcdef';
    const gateway = await startTestGateway({ metricsToken: token });
    const without = await fetch(`${gateway.url}/metrics`);
    assert.equal(without.status, 401);
    assert.equal(without.headers.get('www-authenticate'), 'Bearer');
    assert.equal((await fetch(`${gateway.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    const scraped = await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(scraped.status, 200);
    assert.equal(scraped.headers.get('cache-control'), 'no-store');
    assert.match(await scraped.text(), /gateway_connections_opened_total/);
  });
});

describe('store failures', () => {
  it('read "unavailable; retry", never the Redis client\'s own message', async () => {
    const redis = await startRedis({ persistent: false });
    const gateway = await startDemoGateway({ redisUrl: redis.url });
    await redis.stop('SIGKILL');
    const response = await fetch(`${gateway.url}/api/payments`, { headers: { authorization: `Bearer ${gateway.token(ALICE)}` } });
    assert.equal(response.status, 503);
    assert.deepEqual(await response.json(), { error: { code: 'SERVICE_UNAVAILABLE', message: 'payment store unavailable; retry' } });
    await redis.start();
  });
});

