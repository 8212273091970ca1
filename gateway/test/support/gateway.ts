/** Starts the real gateway in-process on a free loopback port, and stops it after the test. */
import { after } from 'node:test';
import { randomBytes } from 'node:crypto';
import { signAccessToken, type TokenSubject } from '../../src/auth/tokens.ts';
import { demoExtension } from '../../src/demo/extension.ts';
import { startGateway, type Gateway, type GatewayOptions } from '../../src/server.ts';

export const ALICE: TokenSubject = { userId: 'alice', email: 'alice@demo.test', role: 'CUSTOMER' };
export const BOB: TokenSubject = { userId: 'bob', email: 'bob@demo.test', role: 'CUSTOMER' };
export const VENDOR: TokenSubject = { userId: 'vendor_1', email: 'vendor@demo.test', role: 'VENDOR' };
export const ADMIN: TokenSubject = { userId: 'admin_1', email: 'admin@demo.test', role: 'ADMIN' };

export interface TestGateway extends Gateway {
  readonly secret: string;
  token(subject: TokenSubject, expiresInSeconds?: number): string;
}

// Registered at import, so at the root of the test file: everything started is stopped when the file ends.
const running = new Set<Gateway>();
after(() => Promise.all([...running].map((gateway) => gateway.close())));

export async function startTestGateway(overrides: Partial<GatewayOptions> = {}): Promise<TestGateway> {
  const secret = overrides.jwtSecret ?? randomBytes(32).toString('hex');
  const gateway = await startGateway({ host: '127.0.0.1', port: 0, logLevel: 'silent', ...overrides, jwtSecret: secret });
  running.add(gateway);
  return {
    ...gateway,
    secret,
    token: (subject, expiresInSeconds = 300) => signAccessToken(secret, subject, { expiresInSeconds }),
  };
}

/** The gateway with the payments demo wired, as `npm start` runs it: /api/auth/*, /api/payments, payment rooms. */
export function startDemoGateway(overrides: Partial<GatewayOptions> = {}): Promise<TestGateway> {
  return startTestGateway({ ...overrides, extension: demoExtension });
}

/** Resolves once `condition` holds, checking on every turn of the event loop; fails after `timeoutMs`. */
export async function eventually(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** One API request with a bearer token, and a JSON body when one is given. */
export function callApi(gateway: TestGateway, method: string, path: string, token: string, json?: unknown): Promise<Response> {
  return fetch(`${gateway.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(json !== undefined && { 'content-type': 'application/json' }) },
    ...(json !== undefined && { body: JSON.stringify(json) }),
  });
}

export function publish(gateway: TestGateway, body: unknown, token = gateway.token(ADMIN)): Promise<Response> {
  return callApi(gateway, 'POST', '/api/events', token, body);
}

/** The JSON bodies of the HTTP API, loosely typed for assertions. */
export interface ApiBody {
  readonly id?: string;
  readonly status?: string;
  readonly connections?: number;
  readonly error?: { readonly code: string; readonly message: string };
}

export async function body(response: Response): Promise<ApiBody> {
  return (await response.json()) as ApiBody;
}
