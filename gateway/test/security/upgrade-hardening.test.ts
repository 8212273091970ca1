/**
 * The upgrade path is total: whatever request line and headers an unauthenticated client sends
 * with `Upgrade: websocket`, it gets a documented answer (a 101 or a JSON refusal) and the gateway
 * serves on. Raw TCP, since no WebSocket client sends most of these.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ERROR_CODES } from '@payments-system/protocol';
import { connect } from '../support/client.ts';
import { ALICE, BOB, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { errorOf, rawRequest, upgradeRequest, type RawResponse } from '../support/raw-http.ts';

/** The gateway still answers HTTP and a well-behaved socket. */
async function assertServing(gateway: TestGateway): Promise<void> {
  assert.equal((await fetch(`${gateway.url}/api/health`)).status, 200);
  const client = await connect(gateway.wsUrl, gateway.token(BOB));
  assert.equal((await client.request({ type: 'ping' })).type, 'pong');
  await client.close();
}

function assertRefusal(response: RawResponse, status: number, code: string): string {
  assert.equal(response.status, status, response.raw.slice(0, 300));
  assert.match(response.headers['content-type'] ?? '', /^application\/json/);
  assert.equal(response.headers['cache-control'], 'no-store');
  assert.equal(response.headers['x-content-type-options'], 'nosniff');
  const error = errorOf(response);
  assert.equal(error.code, code);
  return error.message;
}

describe('upgrade hardening', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway({ maxSocketsPerUser: 3 });
  });

  it('answers request targets a URL parser cannot take with 400 or 404, and serves on', async () => {
    // Each of the first three killed the process: `new URL()` threw on the 'upgrade' event.
    for (const target of ['//[', '//a:99999/ws', '//%', '//[::1/ws', '//a b', '/ws?since=%', '/ws?token=%ZZ']) {
      const response = await rawRequest(gateway.port, upgradeRequest(target, { 'Sec-WebSocket-Protocol': `bearer, ${gateway.token(ALICE)}` }));
      assert.ok([400, 401, 404].includes(response.status), `${target}: ${response.status}`);
      errorOf(response);
    }
    assertRefusal(await rawRequest(gateway.port, upgradeRequest('*')), 400, 'BAD_REQUEST');
    assertRefusal(await rawRequest(gateway.port, upgradeRequest('http://gateway.example/ws')), 400, 'BAD_REQUEST');
    await assertServing(gateway);
  });

  it('refuses a handshake whose subprotocol token and ?token= differ, instead of picking one', async () => {
    const target = `/ws?token=${gateway.token(BOB)}`;
    const response = await rawRequest(gateway.port, upgradeRequest(target, { 'Sec-WebSocket-Protocol': `bearer, ${gateway.token(ALICE)}` }));
    assert.match(assertRefusal(response, 400, 'BAD_REQUEST'), /subprotocol and \?token= differ/);
    const same = gateway.token(ALICE);
    const accepted = await rawRequest(gateway.port, upgradeRequest(`/ws?token=${same}`, { 'Sec-WebSocket-Protocol': `bearer, ${same}` }));
    assert.equal(accepted.status, 101, 'the same token in both places is no conflict');
  });

  it('answers what ws itself refuses (bad key, version, method) with the same JSON refusals', async () => {
    const token = gateway.token(ALICE);
    const bearer = { 'Sec-WebSocket-Protocol': `bearer, ${token}` };
    assertRefusal(await rawRequest(gateway.port, upgradeRequest('/ws', { ...bearer, 'Sec-WebSocket-Key': 'short' })), 400, 'BAD_REQUEST');
    const version = await rawRequest(gateway.port, upgradeRequest('/ws', { ...bearer, 'Sec-WebSocket-Version': '12' }));
    assertRefusal(version, 400, 'BAD_REQUEST');
    assert.equal(version.headers['sec-websocket-version'], '13, 8');
    const post = upgradeRequest('/ws', bearer).replace(/^GET/, 'POST');
    assertRefusal(await rawRequest(gateway.port, post), 405, 'METHOD_NOT_ALLOWED');
  });

  it('refuses a socket over WS_MAX_SOCKETS_PER_USER with 429 before any 101; other users and freed places are unaffected', async () => {
    const open = await Promise.all([1, 2, 3].map(() => connect(gateway.wsUrl, gateway.token(ALICE))));
    const refused = await rawRequest(gateway.port, upgradeRequest('/ws', { 'Sec-WebSocket-Protocol': `bearer, ${gateway.token(ALICE)}` }));
    assert.match(assertRefusal(refused, 429, 'RATE_LIMITED'), /at most 3/);
    assert.ok(Number(refused.headers['retry-after']) > 0);
    assert.equal(gateway.hub.socketsOf('alice'), 3);
    await assertServing(gateway);
    await open[0]!.close();
    const again = await connect(gateway.wsUrl, gateway.token(ALICE));
    assert.equal((await again.request({ type: 'ping' })).type, 'pong');
    await Promise.all([again, ...open].map((client) => client.close()));
  });

  it('property: any request target and headers get a 101 or a JSON refusal, and the gateway serves on', async () => {
    const token = gateway.token(BOB);
    const visible = fc.string({ unit: fc.constantFrom(...'/%[]:@?&=#.-_~!$\'()*+,;abcXYZ019\\"<>{}|^`'.split('')), maxLength: 40 });
    const target = fc.oneof(
      visible.map((rest) => `/${rest}`),
      visible.map((rest) => `//${rest}`),
      visible.map((rest) => `/ws?${rest}`),
      fc.constantFrom('/ws', '/ws?token=', `/ws?token=${token}`, `/ws?token=${token}&token=x`, '/ws?since=1-0', '/ws?since=x', '*', 'ws'),
      fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 30 }).filter((text) => !/[\s]/.test(text)),
    );
    const headerValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength: 60 });
    const headers = fc.record(
      {
        'Sec-WebSocket-Protocol': fc.oneof(headerValue, fc.constantFrom(`bearer, ${token}`, 'bearer', 'bearer, a, bearer, b', `chat, bearer, ${token}`)),
        'Sec-WebSocket-Key': fc.oneof(headerValue, fc.constant('dGhlIHNhbXBsZSBub25jZQ==')),
        'Sec-WebSocket-Version': fc.oneof(headerValue, fc.constantFrom('13', '8', '-1', '1e3')),
        Origin: headerValue,
        'X-Forwarded-For': headerValue,
        Upgrade: fc.constantFrom('websocket', 'WebSocket', 'h2c', ''),
      },
      { requiredKeys: [] },
    );
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(target, headers, async (requestTarget, extra) => {
        const response = await rawRequest(gateway.port, upgradeRequest(requestTarget, extra));
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status === 101) return;
        assert.ok(response.status >= 400 && response.status < 500, `${JSON.stringify(requestTarget)}: status ${response.status}: ${response.raw.slice(0, 200)}`);
        assert.ok((ERROR_CODES as readonly string[]).includes(errorOf(response).code));
      }),
      { numRuns: 300 },
    );
    console.log(`upgrade property: answers by status ${JSON.stringify(Object.fromEntries(statuses))}`);
    await assertServing(gateway);
  });
});
