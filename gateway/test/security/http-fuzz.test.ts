/**
 * The HTTP API, fuzzed: any method, path, headers and body get a documented answer (never a 500),
 * every answer carries the security headers, every error is our JSON with a code from the protocol
 * and a message that names nothing of the server (no file path, no parser or library message), and
 * the gateway serves on. Plus raw bytes where a request line and headers should be.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ERROR_CODES } from '@payments-system/protocol';
import { ADMIN, ALICE, startDemoGateway, type TestGateway } from '../support/gateway.ts';
import { errorOf, rawRequest } from '../support/raw-http.ts';

const appDir = mkdtempSync(join(tmpdir(), 'fuzzed-app-'));
writeFileSync(join(appDir, 'main-AB12CD34.js'), 'console.log(1)');
const ROOT = process.cwd();

/** What no error message may contain: the server's folders, Node's system errors, parser internals, stacks. */
const LEAKS = [ROOT, appDir, 'ENOENT', 'EACCES', 'node_modules', 'JSON at position', 'Unexpected token', 'Unexpected end', '\n    at '];

interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

function send(gateway: TestGateway, method: string, path: string, headers: Record<string, string>, body: string | undefined): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port: gateway.port, method, path, headers, agent: false }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }));
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

describe('HTTP API (property)', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startDemoGateway({ staticDir: appDir, demoUsers: true, maxPayloadBytes: 2048 });
  });

  it('answers any method, path, headers and body with a documented status, our headers, and errors that leak nothing', async () => {
    const pathChar = fc.constantFrom(...'abcxyz019-._~%2e%2f%00%ff/..?=&#:@!$\'()*+,;[]'.split(''));
    const noise = fc.string({ unit: pathChar, maxLength: 30 });
    const route = fc.constantFrom('/api/health', '/api/ready', '/api/events', '/api/auth/login', '/api/auth/refresh', '/api/auth/logout', '/api/auth/demo-accounts', '/api/payments', '/api/payments/pay_1', '/metrics', '/', '/main-AB12CD34.js', '/payments/pay_1', '/ws');
    const path = fc.oneof(route, fc.tuple(route, noise).map(([base, rest]) => `${base}${rest}`), noise.map((rest) => `/${rest}`));
    const method = fc.constantFrom('GET', 'POST', 'PATCH', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND');
    const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength: 80 });
    const headers = fc.record(
      {
        'content-type': fc.oneof(fc.constantFrom('application/json', 'application/json; charset=latin1', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16'), printable),
        authorization: fc.oneof(
          fc.constantFrom(`Bearer ${gateway.token(ADMIN)}`, `Bearer ${gateway.token(ALICE)}`, 'Bearer', 'Bearer a.b.c', 'Basic YTpi'),
          printable,
        ),
        'x-forwarded-for': printable,
        'x-request-id': printable,
        'idempotency-key': printable,
        accept: printable,
      },
      { requiredKeys: [] },
    );
    const json = (value: unknown) => JSON.stringify(value);
    const body = fc.oneof(
      fc.constant(undefined),
      fc.jsonValue({ maxDepth: 3 }).map(json),
      fc.record({ email: fc.oneof(fc.constant('alice@demo.test'), printable), password: printable }, { requiredKeys: [] }).map(json),
      fc.record({ room: fc.constantFrom('broadcast', 'user:alice', 'nope'), type: fc.constantFrom('system:broadcast', 'payment:updated', 'x'), payload: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] }).map(json),
      fc.record({ amount: fc.oneof(fc.constant('12.50'), printable), currency: fc.constantFrom('EUR', 'XXX'), description: printable, status: fc.constantFrom('processing', 'nope') }, { requiredKeys: [] }).map(json),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.constant('x'.repeat(3000)),
    );
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(method, path, headers, body, async (verb, target, given, payload) => {
        const answer = await send(gateway, verb, target, given, verb === 'GET' || verb === 'HEAD' ? undefined : payload);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        const what = `${verb} ${target} → ${answer.status}: ${answer.body.slice(0, 200)}`;
        assert.ok([200, 201, 202, 204, 400, 401, 403, 404, 405, 409, 413, 429, 431, 501, 503].includes(answer.status), what);
        assert.equal(answer.headers['x-content-type-options'], 'nosniff', what);
        assert.equal(answer.headers['x-frame-options'], 'DENY', what);
        assert.match(String(answer.headers['content-security-policy']), /frame-ancestors 'none'/, what);
        if (answer.status >= 400 || /^\/(?:api|metrics)(?:[/?#]|$)/.test(target)) assert.equal(answer.headers['cache-control'], 'no-store', what);
        if (answer.status < 400 || verb === 'HEAD' || answer.status === 501) return;
        const error = errorOf({ status: answer.status, headers: {}, body: answer.body, raw: answer.body });
        assert.ok((ERROR_CODES as readonly string[]).includes(error.code), what);
        for (const leak of LEAKS) assert.ok(!error.message.includes(leak), `${what}: the message contains ${JSON.stringify(leak)}`);
      }),
      { numRuns: 400 },
    );
    console.log(`HTTP property: answers by status ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`);
    assert.equal((await fetch(`${gateway.url}/api/health`)).status, 200);
  });

  it('answers raw bytes where a request line and headers should be with a JSON 400 (or a request it can parse), and serves on', async () => {
    const line = fc.oneof(
      fc.string({ unit: 'binary-ascii', maxLength: 200 }),
      fc.tuple(fc.constantFrom('GET', 'POST', 'G\u0000T', ''), fc.string({ unit: 'binary-ascii', maxLength: 60 }), fc.constantFrom('HTTP/1.1', 'HTTP/9.9', 'HTTP/1.1 extra', '')).map(
        ([verb, target, version]) => `${verb} ${target} ${version}`,
      ),
    );
    const headerLines = fc.array(fc.string({ unit: 'binary-ascii', maxLength: 80 }), { maxLength: 5 });
    await fc.assert(
      fc.asyncProperty(line, headerLines, async (requestLine, lines) => {
        const response = await rawRequest(gateway.port, `${requestLine}\r\n${lines.map((text) => `${text}\r\n`).join('')}\r\n`);
        if (response.status === 0) return; // a line that never ends a request: the server waits, the client ended it
        assert.ok(response.status >= 200 && response.status < 500 && response.status !== 500, `${JSON.stringify(requestLine)} → ${response.status}`);
        assert.equal(response.headers['x-content-type-options'], 'nosniff');
        if (response.status >= 400 && response.body !== '') assert.ok((ERROR_CODES as readonly string[]).includes(errorOf(response).code));
      }),
      { numRuns: 300 },
    );
    assert.equal((await fetch(`${gateway.url}/api/health`)).status, 200);
  });
});
