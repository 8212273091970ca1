/**
 * The compose stack without docker: Debian's nginx, unprivileged and in the foreground, running
 * the project's nginx template on free loopback ports with a certificate made for this run, in
 * front of two real gateway processes. Everything goes through nginx the way a browser would.
 */
import assert from 'node:assert/strict';
import { connect as http2Connect } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { CloseCode } from '@payments-system/protocol';
import { connect, refusedHandshake } from '../../gateway/test/support/client.ts';
import { ADMIN, ALICE, BOB } from '../../gateway/test/support/gateway.ts';
import { eventually, gatewayHealth, startStack, type Stack } from './support/stack.ts';

const CAROL = { userId: 'carol', email: 'carol@demo.test', role: 'CUSTOMER' } as const;
const DAVE = { userId: 'dave', email: 'dave@demo.test', role: 'CUSTOMER' } as const;

async function accessLogMatches(stack: Stack, pattern: RegExp): Promise<void> {
  // nginx writes the line when the request is finalised, just after the client has its response.
  await eventually(() => pattern.test(stack.accessLog()), `an access log line matching ${pattern}`, 2000).catch(() => {
    assert.match(stack.accessLog(), pattern);
  });
}

const SECURITY_HEADERS = ['strict-transport-security', 'content-security-policy', 'x-frame-options', 'x-content-type-options'];

function assertSecurityHeaders(stack: Stack, headers: Record<string, unknown>, what: string): void {
  for (const name of SECURITY_HEADERS) assert.ok(headers[name], `${what}: missing ${name}`);
  assert.match(String(headers['strict-transport-security']), /^max-age=\d{8,}/);
  const csp = String(headers['content-security-policy']);
  assert.match(csp, new RegExp(`connect-src 'self' wss://127\\.0\\.0\\.1:${stack.httpsPort}(;|$)`), `${what}: CSP connect-src`);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /default-src 'self'/);
  assert.equal(headers['x-frame-options'], 'DENY');
  assert.equal(headers['x-content-type-options'], 'nosniff');
}

describe('the stack through nginx (TLS, two gateways)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack?.stop());

  describe('the app', () => {
    it('serves index.html over HTTPS with no-cache and the security headers', async () => {
      const response = await stack.request('/');
      assert.equal(response.status, 200);
      assert.match(String(response.headers['content-type']), /^text\/html/);
      assert.match(response.body, /<app-root/);
      assert.equal(response.headers['cache-control'], 'no-cache');
      assert.equal(response.headers['server'], 'nginx', 'server_tokens off: no version');
      assertSecurityHeaders(stack, response.headers, 'index.html');
    });

    it('serves hashed assets for a year, immutable, with the security headers too', async () => {
      const index = (await stack.request('/')).body;
      const assets = [...index.matchAll(/(?:src|href)="([\w.-]+-[A-Z0-9]{8}\.(?:js|css))"/g)].map((match) => match[1]!);
      assert.ok(assets.some((asset) => asset.endsWith('.js')), `no hashed script in index.html:\n${index}`);
      for (const asset of assets) {
        const response = await stack.request(`/${asset}`);
        assert.equal(response.status, 200, asset);
        assert.equal(response.headers['cache-control'], 'public, max-age=31536000, immutable', asset);
        assert.match(String(response.headers['content-type']), asset.endsWith('.js') ? /javascript/ : /text\/css/);
        assertSecurityHeaders(stack, response.headers, asset);
      }
    });

    it('answers client-side routes with index.html, and a missing asset with 404 (not index.html)', async () => {
      const route = await stack.request('/payments/pay_123?tab=history');
      assert.equal(route.status, 200);
      assert.match(route.body, /<app-root/);
      assert.equal(route.headers['cache-control'], 'no-cache');
      const stale = await stack.request('/main-OLDHASH1.js');
      assert.equal(stale.status, 404);
      assertSecurityHeaders(stack, stale.headers, '404');
    });

    it('negotiates HTTP/2 for the app', async () => {
      const session = http2Connect(stack.origin, { ca: stack.ca });
      try {
        const status = await new Promise<number>((resolve, reject) => {
          const stream = session.request({ ':path': '/' });
          stream.on('response', (headers) => resolve(Number(headers[':status'])));
          stream.on('error', reject);
          stream.resume();
        });
        assert.equal(status, 200);
        assert.equal(session.alpnProtocol, 'h2');
      } finally {
        session.close();
      }
    });

    it('answers the container healthcheck (/nginx-status on the HTTP port, loopback only) without logging it', async () => {
      const response = await stack.request('/nginx-status', { plain: true });
      assert.equal(response.status, 200);
      assert.match(response.body, /^Active connections: \d+/);
      assert.doesNotMatch(stack.accessLog(), /nginx-status/);
    });

    it('redirects plain HTTP to the HTTPS origin, path and query kept', async () => {
      const response = await stack.request('/payments/pay_1?x=1', { plain: true, headers: { host: 'evil.example' } });
      assert.equal(response.status, 301);
      assert.equal(response.headers['location'], `${stack.origin}/payments/pay_1?x=1`, 'a fixed host, never the client Host');
    });
  });

  describe('WebSocket and API', () => {
    it('a client connects over wss://, authenticates, and receives an event published through https://…/api/events', async () => {
      // least_conn: with one socket open on each gateway, the next publish lands on one of them.
      const alice1 = await connect(stack.wssUrl, stack.token(ALICE), { ca: stack.ca, origin: stack.origin });
      const alice2 = await connect(stack.wssUrl, stack.token(ALICE), { ca: stack.ca, origin: stack.origin });
      const healths = await Promise.all(stack.gateways.map(gatewayHealth));
      assert.deepEqual(
        healths.map((health) => health.connections),
        [1, 1],
        'least_conn spreads two sockets over the two gateways',
      );
      const pong = await alice1.request({ type: 'ping' });
      assert.equal(pong.type, 'pong');

      const payment = { paymentId: 'pay_77', status: 'completed', amount: '12.50', currency: 'EUR' } as const;
      const response = await stack.request('/api/events', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.token(ADMIN)}` },
        body: JSON.stringify({ room: 'user:alice', type: 'payment:updated', payload: payment, correlationId: 'trace-stack-1' }),
      });
      assert.equal(response.status, 202, response.body);
      assert.equal(response.headers['cache-control'], 'no-store');
      const { id } = JSON.parse(response.body) as { id: string };
      // nginx's $request_id reached the gateway as X-Request-Id: it names the instance that took the publish.
      const requestId = String(response.headers['x-request-id']);
      assert.match(requestId, /^[0-9a-f]{32}$/);
      const publishedBy = () =>
        stack.gateways.findIndex((gateway) => gateway.process.output.some((line) => line.includes(requestId) && line.includes('"path":"/api/events"') && line.includes(`"eventId":"${id}"`)));
      await eventually(() => publishedBy() >= 0, 'a gateway to log the publish under the nginx request id');
      const publisher = publishedBy();
      await accessLogMatches(stack, new RegExp(`"POST /api/events HTTP/1.1" 202 .* rid=${requestId} upstream=127.0.0.1:${stack.gateways[publisher]!.port} `));

      // Until the Redis bus (scale-out issue), an event reaches the sockets of the instance it was published to.
      const receivers = await Promise.all(
        [alice1, alice2].map((client) => client.next('payment:updated', 700).then((event) => event, () => undefined)),
      );
      const delivered = receivers.filter((event) => event !== undefined);
      assert.ok(delivered.length >= 1, 'the event reached alice through nginx');
      for (const event of delivered) {
        assert.equal(event.id, id);
        assert.equal(event.correlationId, 'trace-stack-1');
        assert.deepEqual(event.payload, payment);
      }
      await Promise.all([alice1.close(), alice2.close()]);
      await accessLogMatches(stack, /"GET \/ws HTTP\/1\.1" 101 /);
    });

    it('refuses a bad token with 401 through nginx (subprotocol and query), and an unknown Origin with 403', async () => {
      const forged = `${stack.token(BOB).slice(0, -4)}AAAA`;
      for (const via of ['subprotocol', 'query'] as const) {
        const refused = await refusedHandshake(stack.wssUrl, forged, { ca: stack.ca, origin: stack.origin, via });
        assert.equal(refused.status, 401, via);
        assert.equal((JSON.parse(refused.body) as { error: { code: string } }).error.code, 'UNAUTHORIZED');
      }
      const noToken = await refusedHandshake(stack.wssUrl, undefined, { ca: stack.ca, origin: stack.origin });
      assert.equal(noToken.status, 401);
      const foreign = await refusedHandshake(stack.wssUrl, stack.token(BOB), { ca: stack.ca, origin: 'https://evil.example' });
      assert.equal(foreign.status, 403, 'nginx passes Origin through to the gateway check');
      const api = await stack.request('/api/events', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(api.status, 401);
      assertSecurityHeaders(stack, api.headers, 'API 401');
    });

    it('limits request bodies to 64 KiB at nginx, before any gateway sees them', async () => {
      const big = JSON.stringify({ room: 'broadcast', type: 'system:broadcast', payload: { message: 'x'.repeat(100_000), level: 'info' } });
      const response = await stack.request('/api/events', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.token(ADMIN)}` },
        body: big,
      });
      assert.equal(response.status, 413);
      await accessLogMatches(stack, /"POST \/api\/events HTTP\/1\.1" 413 .* upstream=- /);
    });

    it('does not expose /metrics, whatever the path looks like', async () => {
      const paths = ['/metrics', '/metrics/', '/api/metrics', '/api/../metrics', '/api/%2e%2e/metrics', '/api/..%2fmetrics', '/ws/../metrics', '//metrics', '/metrics?x=1'];
      for (const path of paths) {
        const response = await stack.request(path);
        assert.doesNotMatch(response.body, /# (HELP|TYPE)|gateway_|nodejs_|process_cpu/, `${path} must not reach the gateway's /metrics`);
        assert.ok([400, 404].includes(response.status) || /<app-root/.test(response.body), `${path}: ${response.status}`);
      }
    });
  });

  describe('drain and a failed upstream (last: stops the gateways)', () => {
    it('SIGTERM on both gateways closes sockets through nginx with 1001, then nginx answers 502', async () => {
      const client = await connect(stack.wssUrl, stack.token(ALICE), { ca: stack.ca, origin: stack.origin });
      for (const gateway of stack.gateways) gateway.process.child.kill('SIGTERM');
      assert.equal((await client.closed).code, CloseCode.GoingAway);
      for (const gateway of stack.gateways) assert.deepEqual(await gateway.process.exited, { code: 0, signal: null });

      // The subprotocol first: its attempt is the one that meets the refused connects.
      for (const via of ['subprotocol', 'query'] as const) {
        const refused = await refusedHandshake(stack.wssUrl, stack.token(via === 'query' ? CAROL : DAVE), { ca: stack.ca, origin: stack.origin, via });
        assert.equal(refused.status, 502, via);
      }
      const api = await stack.request('/api/health');
      assert.equal(api.status, 502);
      await eventually(() => /connect\(\) failed/.test(stack.errorLog()), 'nginx to log the failed upstream');
    });

    it('the access log holds no token; the error log holds ?token= query tokens only (the bearer subprotocol is safe)', () => {
      const access = stack.accessLog();
      const errors = stack.errorLog();
      assert.ok(access.split('\n').length > 10, 'the access log recorded the run');
      for (const token of stack.tokens) assert.ok(!access.includes(token), 'a token in the access log');
      assert.doesNotMatch(access, /token=|bearer|eyJ/i);

      // nginx's error log prints the request line (query included) of a failed upstream request.
      const subprotocolToken = stack.tokens.at(-2)!; // DAVE's, sent in Sec-WebSocket-Protocol to the dead upstreams
      const queryToken = stack.tokens.at(-1)!; // CAROL's, sent as ?token=
      assert.match(errors, /connect\(\) failed \(111: Connection refused\) while connecting to upstream, client: 127\.0\.0\.1, server: _, request: "GET \/ws HTTP\/1\.1"/);
      assert.ok(errors.includes(`request: "GET /ws?token=${queryToken} HTTP/1.1"`), 'documented: a ?token= query reaches the error log');
      assert.ok(!errors.includes(subprotocolToken), 'a subprotocol token never reaches the error log');
      for (const token of stack.tokens) {
        if (token !== queryToken) assert.ok(!errors.includes(token), 'tokens of requests that did not fail stay out of the error log');
      }
    });
  });
});
