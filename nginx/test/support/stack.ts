/**
 * The stack of the compose file, as real processes on free loopback ports, without docker:
 * Debian's nginx (unprivileged, foreground) running the project's template, with a certificate
 * made for the run by nginx/scripts/make-dev-cert.sh, in front of two real gateway processes.
 * Everything started here is stopped after the test file, also when a test fails.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createHash, randomBytes } from 'node:crypto';
import { signAccessToken, type TokenSubject } from '../../../gateway/src/auth/tokens.ts';
import { advanceClock, CLOCK_OFFSET_PRELOAD, listeningUrl, spawnGateway, type GatewayProcess } from '../../../gateway/test/support/process.ts';
import { freePort, waitForPort } from '../../../gateway/test/support/ports.ts';
import { renderGatewayConf } from './render.ts';
import { NGINX, NOBODY, prepareNginxRunDir } from './run-dir.ts';

export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const asNobody = process.getuid?.() === 0;

export interface StackGateway {
  readonly process: GatewayProcess;
  /** Direct (internal network) address, e.g. http://127.0.0.1:41234. */
  readonly url: string;
  readonly port: number;
}

export interface HttpResult {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  /** Plain HTTP to nginx's redirect port instead of HTTPS. */
  readonly plain?: boolean;
}

export interface Stack {
  readonly runDir: string;
  readonly httpPort: number;
  readonly httpsPort: number;
  /** https://127.0.0.1:PORT, the app's public origin. */
  readonly origin: string;
  readonly wssUrl: string;
  /** The run's self-signed certificate, the only CA the clients trust. */
  readonly ca: Buffer;
  readonly secret: string;
  readonly gateways: readonly StackGateway[];
  readonly nginx: ChildProcess;
  /** Every token minted for this run, to check that no log holds one. */
  readonly tokens: readonly string[];
  token(subject: TokenSubject, expiresInSeconds?: number): string;
  /** Moves both gateways' clocks ahead (token checks and expiry), so a token expires without a race. */
  advanceGatewayClocks(seconds: number): Promise<void>;
  accessLog(): string;
  errorLog(): string;
  /** A raw request to nginx: the path is sent exactly as given (no client-side normalisation). */
  request(path: string, options?: RequestOptions): Promise<HttpResult>;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Extra gateway environment (both instances). */
  readonly gatewayEnv?: Record<string, string>;
}

const stacks = new Set<Stack>();
after(() => Promise.all([...stacks].map((stack) => stack.stop())));
const nginxes = new Set<ChildProcess>();
// Last resort when the test process dies without running `after` hooks. nginx runs with
// master_process off, so this one process is all there is (no orphaned workers).
process.once('exit', () => {
  for (const child of nginxes) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});


/**
 * The built Angular app: STACK_APP_DIR, else dist/shell/browser, else `ng build shell` once into
 * node_modules/.cache, keyed by a hash of the sources (CI runs the stack files on a clean tree).
 */
function appSource(runDir: string): string {
  const given = process.env['STACK_APP_DIR'];
  if (given !== undefined) return given;
  const built = join(ROOT, 'dist/shell/browser');
  if (existsSync(join(built, 'index.html'))) return built;
  const cached = join(ROOT, 'node_modules/.cache/payments-stack', `shell-${sourceHash()}`);
  if (existsSync(join(cached, 'browser/index.html'))) return join(cached, 'browser');
  const out = join(runDir, 'build');
  const result = spawnSync(join(ROOT, 'node_modules/.bin/ng'), ['build', 'shell', '--output-path', out, '--progress=false'], {
    cwd: ROOT,
    env: { ...process.env, NG_CLI_ANALYTICS: 'false' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (result.status !== 0) {
    // These tests are about serving the app, not building it: while the app's sources are mid-change
    // the last good build will do. A tree with no good build at all (a clean CI run) still fails.
    const previous = lastGoodBuild(dirname(cached));
    if (previous === undefined) throw new Error(`ng build shell failed:\n${result.stdout}\n${result.stderr}`);
    process.stderr.write(`stack: ng build shell failed; serving the previous build ${previous}\n`);
    return previous;
  }
  mkdirSync(dirname(cached), { recursive: true });
  try {
    renameSync(out, cached); // atomic: a concurrent run sees a whole build or none
  } catch {
    return join(out, 'browser'); // another run won the race; use our own copy
  }
  return join(cached, 'browser');
}

function lastGoodBuild(cacheDir: string): string | undefined {
  if (!existsSync(cacheDir)) return undefined;
  const builds = readdirSync(cacheDir)
    .map((name) => join(cacheDir, name, 'browser'))
    .filter((path) => existsSync(join(path, 'index.html')))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return builds[0];
}

function sourceHash(): string {
  const hash = createHash('sha256');
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) walk(child);
      else hash.update(child).update(readFileSync(child));
    }
  };
  walk(join(ROOT, 'projects'));
  for (const file of ['angular.json', 'tsconfig.json', 'package-lock.json']) hash.update(readFileSync(join(ROOT, file)));
  return hash.digest('hex').slice(0, 16);
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const runDir = mkdtempSync(join(tmpdir(), 'stack-'));
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  const origin = `https://127.0.0.1:${httpsPort}`;
  const secret = randomBytes(32).toString('hex');
  const tokens: string[] = [];
  let nginx: ChildProcess | undefined;
  const gateways: StackGateway[] = [];

  const stop = async () => {
    stacks.delete(stack);
    await Promise.all(
      gateways.map(async ({ process: gateway }) => {
        if (gateway.child.exitCode === null && gateway.child.signalCode === null) gateway.child.kill('SIGTERM');
        await gateway.exited;
      }),
    );
    if (nginx !== undefined && nginx.exitCode === null && nginx.signalCode === null) {
      const exited = once(nginx, 'exit');
      nginx.kill('SIGQUIT'); // graceful
      const timer = setTimeout(() => nginx?.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    if (nginx !== undefined) nginxes.delete(nginx);
    if (process.env['KEEP_STACK_RUN'] === undefined) rmSync(runDir, { recursive: true, force: true });
  };
  const stack = { stop } as Stack;
  stacks.add(stack);

  // Two gateways, on the "internal network" (loopback, free ports).
  for (let i = 0; i < 2; i++) {
    // As in docker-compose.yml: behind one proxy, whose X-Forwarded-For entry is the client.
    const process = spawnGateway(
      { JWT_SECRET: secret, WS_ALLOWED_ORIGINS: origin, TRUST_PROXY_HOPS: '1', ...options.gatewayEnv },
      undefined,
      { preload: [CLOCK_OFFSET_PRELOAD], ipc: true },
    );
    gateways.push({ process, url: '', port: 0 });
  }
  for (const [i, gateway] of gateways.entries()) {
    const url = listeningUrl(await gateway.process.waitForLine(/listening/));
    gateways[i] = { ...gateway, url, port: Number(new URL(url).port) };
  }

  // The certificate for this run, from the project's own script.
  const certDir = join(runDir, 'certs');
  const cert = spawnSync('sh', [join(ROOT, 'nginx/scripts/make-dev-cert.sh')], {
    env: { ...process.env, CERT_DIR: certDir, CERT_DAYS: '1' },
    encoding: 'utf8',
  });
  if (cert.status !== 0) throw new Error(`make-dev-cert.sh failed: ${cert.stderr}`);

  const appRoot = join(runDir, 'app');
  cpSync(appSource(runDir), appRoot, { recursive: true });
  const accessLogPath = join(runDir, 'access.log');
  const errorLogPath = join(runDir, 'error.log');
  const site = renderGatewayConf({
    NGINX_LISTEN_HTTP: `127.0.0.1:${httpPort}`,
    NGINX_LISTEN_HTTPS: `127.0.0.1:${httpsPort}`,
    PUBLIC_HOST: `127.0.0.1:${httpsPort}`,
    GATEWAY_1: `127.0.0.1:${gateways[0]!.port}`,
    GATEWAY_2: `127.0.0.1:${gateways[1]!.port}`,
    TLS_CERT: join(certDir, 'tls.crt'),
    TLS_KEY: join(certDir, 'tls.key'),
    APP_ROOT: appRoot,
    NGINX_ACCESS_LOG: accessLogPath,
  });
  prepareNginxRunDir({ runDir, site, errorLogPath, accessLogPath, errorLogLevel: 'info', workerConnections: 256, asNobody });

  const errorLog = () => readFileSync(errorLogPath, 'utf8');
  const accessLog = () => readFileSync(accessLogPath, 'utf8');
  nginx = spawn(NGINX, ['-p', runDir, '-c', join(runDir, 'nginx.conf'), '-e', errorLogPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
    ...(asNobody ? NOBODY : {}),
  });
  nginxes.add(nginx);
  let stderr = '';
  nginx.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const nginxAlive = () => nginx.exitCode === null && nginx.signalCode === null;
  const nginxLog = () => `${stderr}${errorLog()}`;
  await waitForPort(httpsPort, nginxAlive, 'nginx', 5000, nginxLog);
  await waitForPort(httpPort, nginxAlive, 'nginx', 5000, nginxLog);

  const ca = readFileSync(join(certDir, 'tls.crt'));
  const request = (path: string, opts: RequestOptions = {}): Promise<HttpResult> =>
    new Promise((resolve, reject) => {
      const send = opts.plain ? httpRequest : httpsRequest;
      const req = send(
        {
          host: '127.0.0.1',
          port: opts.plain ? httpPort : httpsPort,
          path,
          method: opts.method ?? 'GET',
          headers: opts.headers,
          ca,
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(opts.body);
    });

  Object.assign(stack, {
    runDir,
    httpPort,
    httpsPort,
    origin,
    wssUrl: `wss://127.0.0.1:${httpsPort}/ws`,
    ca,
    secret,
    gateways,
    nginx,
    tokens,
    token(subject: TokenSubject, expiresInSeconds = 300) {
      const token = signAccessToken(secret, subject, { expiresInSeconds });
      tokens.push(token);
      return token;
    },
    advanceGatewayClocks: async (seconds) => {
      await Promise.all(gateways.map((gateway) => advanceClock(gateway.process, seconds)));
    },
    accessLog,
    errorLog,
    request,
  } satisfies Omit<Stack, 'stop'>);
  return stack;
}

/** GET a gateway's own /api/health (the internal network, not through nginx). */
export async function gatewayHealth(gateway: StackGateway): Promise<{ connections: number; draining: boolean }> {
  const response = await fetch(`${gateway.url}/api/health`);
  return (await response.json()) as { connections: number; draining: boolean };
}

/** Resolves once `condition` holds (polling); fails after `timeoutMs`. */
export async function eventually(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
