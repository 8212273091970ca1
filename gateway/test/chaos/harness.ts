/**
 * The chaos stack, all real processes on free loopback ports: Debian's redis-server (persistent:
 * append-only, fsync always), two gateway processes (`node --import tsx gateway/src/main.ts`)
 * with REDIS_URL, and Debian's nginx running the project's template (TLS, least_conn, failover)
 * in front. Unlike nginx/test/support/stack.ts, a gateway here can be killed and started again
 * on the same port (nginx's upstream names fixed ports), with a different environment if wanted.
 * Everything is stopped after the test file, also when a test fails.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { signAccessToken, type TokenSubject } from '../../src/auth/tokens.ts';
import { renderGatewayConf } from '../../../nginx/test/support/render.ts';
import { NGINX, NOBODY, prepareNginxRunDir } from '../../../nginx/test/support/run-dir.ts';
import { startRedis, type RedisServer } from '../bus/redis-server.ts';
import { freePort, waitForPort } from '../support/ports.ts';
import { spawnGateway, type GatewayProcess } from '../support/process.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const asNobody = process.getuid?.() === 0;

export interface ChaosGateway {
  readonly index: number;
  readonly port: number;
  readonly url: string;
  process: GatewayProcess;
  /** Environment of the current process (beyond the common one). */
  env: Record<string, string>;
}

export interface ChaosStack {
  readonly redis: RedisServer;
  readonly gateways: readonly ChaosGateway[];
  readonly origin: string;
  readonly wssUrl: string;
  readonly ca: Buffer;
  token(subject: TokenSubject, expiresInSeconds?: number): string;
  /** `kill -9`: resolves once the process is gone. */
  kill(index: number): Promise<void>;
  /** SIGTERM (drain: 1001 to every socket, then exit 0); resolves with the exit code. */
  terminate(index: number): Promise<number | null>;
  /** Starts gateway `index` again on its port; `env` replaces its extra environment when given. */
  restart(index: number, env?: Record<string, string>): Promise<void>;
  /** Open sockets on gateway `index`, from its own /api/health (the internal network). */
  connections(index: number): Promise<number>;
  /** Waits until nginx sends a new socket to gateway `index` again (after a restart it parks it for up to 10 s). */
  untilRoutable(index: number, timeoutMs?: number): Promise<number>;
  errorLog(): string;
  stop(): Promise<void>;
}

const stacks = new Set<ChaosStack>();
after(() => Promise.all([...stacks].map((stack) => stack.stop())));
const nginxes = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of nginxes) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});


const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

export async function startChaosStack(gatewayEnv: Record<string, string> = {}): Promise<ChaosStack> {
  const runDir = mkdtempSync(join(tmpdir(), 'chaos-'));
  const secret = randomBytes(32).toString('hex');
  const [httpPort, httpsPort, port1, port2] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const origin = `https://127.0.0.1:${httpsPort}`;
  let nginx: ChildProcess | undefined;
  const gateways: ChaosGateway[] = [];
  let redis: RedisServer | undefined;
  const errorLogPath = join(runDir, 'error.log');

  const stop = async () => {
    stacks.delete(stack);
    await Promise.all(
      gateways.map(async ({ process: gateway }) => {
        if (alive(gateway.child)) gateway.child.kill('SIGKILL');
        await gateway.exited;
      }),
    );
    if (nginx !== undefined && alive(nginx)) {
      const exited = once(nginx, 'exit');
      nginx.kill('SIGKILL');
      await exited;
    }
    if (nginx !== undefined) nginxes.delete(nginx);
    await redis?.dispose();
    if (process.env['KEEP_CHAOS_RUN'] === undefined) rmSync(runDir, { recursive: true, force: true });
  };
  const stack = { stop } as ChaosStack;
  stacks.add(stack);

  redis = await startRedis();
  const commonEnv = (port: number) => ({
    JWT_SECRET: secret,
    WS_ALLOWED_ORIGINS: origin,
    REDIS_URL: redis!.url,
    PORT: String(port),
    SHUTDOWN_TIMEOUT_MS: '3000',
  });
  const spawnOn = (port: number, env: Record<string, string>) => spawnGateway({ ...commonEnv(port), ...env });
  for (const [index, port] of [port1, port2].entries()) {
    gateways.push({ index, port, url: `http://127.0.0.1:${port}`, process: spawnOn(port, gatewayEnv), env: gatewayEnv });
  }
  await Promise.all(gateways.map((gateway) => gateway.process.waitForLine(/listening/, 30_000)));

  const certDir = join(runDir, 'certs');
  const cert = spawnSync('sh', [join(ROOT, 'nginx/scripts/make-dev-cert.sh')], { env: { ...process.env, CERT_DIR: certDir, CERT_DAYS: '1' }, encoding: 'utf8' });
  if (cert.status !== 0) throw new Error(`make-dev-cert.sh failed: ${cert.stderr}`);
  const appRoot = join(runDir, 'app');
  mkdirSync(appRoot);
  writeFileSync(join(appRoot, 'index.html'), '<!doctype html><title>chaos</title>\n');
  const accessLogPath = join(runDir, 'access.log');
  const site = renderGatewayConf({
    NGINX_LISTEN_HTTP: `127.0.0.1:${httpPort}`,
    NGINX_LISTEN_HTTPS: `127.0.0.1:${httpsPort}`,
    PUBLIC_HOST: `127.0.0.1:${httpsPort}`,
    GATEWAY_1: `127.0.0.1:${port1}`,
    GATEWAY_2: `127.0.0.1:${port2}`,
    TLS_CERT: join(certDir, 'tls.crt'),
    TLS_KEY: join(certDir, 'tls.key'),
    APP_ROOT: appRoot,
    NGINX_ACCESS_LOG: accessLogPath,
  });
  prepareNginxRunDir({
    runDir,
    site,
    errorLogPath,
    accessLogPath,
    errorLogLevel: 'warn',
    workerConnections: 1024,
    asNobody,
  });
  const started = spawn(NGINX, ['-p', runDir, '-c', join(runDir, 'nginx.conf'), '-e', errorLogPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
    ...(asNobody ? NOBODY : {}),
  });
  nginx = started;
  nginxes.add(started);
  const errorLog = () => readFileSync(errorLogPath, 'utf8');
  await waitForPort(httpsPort, () => alive(started), 'nginx').catch((error: Error) => {
    throw new Error(`${error.message}\n${errorLog()}`);
  });

  const ca = readFileSync(join(certDir, 'tls.crt'));
  const wssUrl = `wss://127.0.0.1:${httpsPort}/ws`;
  const token = (subject: TokenSubject, expiresInSeconds = 600) => signAccessToken(secret, subject, { expiresInSeconds });
  const connections = async (index: number) => {
    const response = await fetch(`${gateways[index]!.url}/api/health`);
    return ((await response.json()) as { connections: number }).connections;
  };

  Object.assign(stack, {
    redis,
    gateways,
    origin,
    wssUrl,
    ca,
    token,
    connections,
    errorLog,
    async kill(index: number) {
      const { child } = gateways[index]!.process;
      if (alive(child)) child.kill('SIGKILL');
      await gateways[index]!.process.exited;
    },
    async terminate(index: number) {
      const { child } = gateways[index]!.process;
      if (alive(child)) child.kill('SIGTERM');
      return (await gateways[index]!.process.exited).code;
    },
    async restart(index: number, env?: Record<string, string>) {
      const gateway = gateways[index]!;
      if (alive(gateway.process.child)) throw new Error(`gateway ${index} is still running`);
      if (env !== undefined) gateway.env = env;
      gateway.process = spawnOn(gateway.port, gateway.env);
      await gateway.process.waitForLine(/listening/, 30_000);
    },
    async untilRoutable(index: number, timeoutMs = 15_000) {
      const started = Date.now();
      const subject = { userId: 'probe', email: 'probe@demo.test', role: 'CUSTOMER' } as const;
      while (Date.now() - started < timeoutMs) {
        // least_conn sends a new socket to the emptiest instance, unless nginx has it parked.
        const before = await connections(index);
        const probe = new WebSocket(wssUrl, ['bearer', token(subject)], { ca });
        const opened = await new Promise<boolean>((resolve) => {
          probe.once('open', () => resolve(true));
          probe.once('error', () => resolve(false));
        });
        const landed = opened && (await connections(index)) > before;
        probe.terminate();
        if (landed) return Date.now() - started;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      throw new Error(`nginx did not route to gateway ${index} within ${timeoutMs} ms`);
    },
  } satisfies Omit<ChaosStack, 'stop'>);
  return stack;
}

// ---------------------------------------------------------------- figures

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
