/**
 * A real Redis for tests: Debian's `redis-server` as a foreground child on a free loopback port,
 * in a folder of its own. It can be stopped, killed
 * and started again on the same port, with its data (an append-only file fsynced on every write,
 * so what Redis acknowledged survives even `kill -9`). Every server is stopped after the test file,
 * and killed if the test process exits without running its `after` hooks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { RedisSettings } from '../../src/redis/connection.ts';
import { freePort, waitForPort } from '../support/ports.ts';

const REDIS = process.env['REDIS_SERVER_BIN'] ?? '/usr/bin/redis-server';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** How the gateway's Redis users reach it (no replicas to wait for). */
  readonly settings: RedisSettings;
  readonly dir: string;
  /** Whether the process is running now. */
  readonly running: boolean;
  /** Starts it again on the same port with the same data folder; resolves once the port accepts. */
  start(): Promise<void>;
  /** SIGTERM (Redis shuts down cleanly) or SIGKILL; resolves once the process is gone. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Freezes (SIGSTOP) or thaws (SIGCONT) the process: a node that is there but does not answer. */
  signal(signal: 'SIGSTOP' | 'SIGCONT'): void;
  /** Stops it for good and removes its folder. */
  dispose(): Promise<void>;
  /** Lines Redis printed (warnings and worse). */
  readonly output: string[];
}

export interface RedisOptions {
  /** Keep data across restarts (appendonly, fsync always). Default true. */
  readonly persistent?: boolean;
  /** More command-line options (a password, `--replicaof`, …), on every start. */
  readonly args?: readonly string[];
  /** Runs this program with `args` instead (e.g. `redis-sentinel <config file>`), in place of a data node. */
  readonly program?: { readonly bin: string; readonly args: (port: number, dir: string) => string[] };
}

const servers = new Set<RedisServer>();
const children = new Set<ChildProcess>();
after(() => Promise.all([...servers].map((server) => server.dispose())));
process.once('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'redis-test-'));
  const persistence = options.persistent === false ? ['--appendonly', 'no'] : ['--appendonly', 'yes', '--appendfsync', 'always'];
  const output: string[] = [];
  let child: ChildProcess | undefined;
  let disposed = false;

  const isRunning = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    settings: { target: { kind: 'url', url: `redis://127.0.0.1:${port}` }, minReplicasAck: 0, waitTimeoutMs: 1000 },
    dir,
    output,
    get running() {
      return isRunning();
    },
    async start() {
      if (isRunning()) return;
      const [bin, args] = options.program
        ? [options.program.bin, options.program.args(port, dir)]
        : [
            REDIS,
            ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', ...persistence, '--daemonize', 'no', '--protected-mode', 'yes', '--loglevel', 'warning', ...(options.args ?? [])],
          ];
      const process = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      child = process;
      children.add(process);
      for (const stream of [process.stdout, process.stderr]) stream?.on('data', (chunk: Buffer) => output.push(...chunk.toString().split('\n').filter(Boolean)));
      process.once('exit', () => children.delete(process));
      await waitForPort(port, () => process.exitCode === null && process.signalCode === null, 'redis-server', 10_000, () => output.join('\n'));
    },
    async stop(signal = 'SIGTERM') {
      const current = child;
      if (current === undefined || !isRunning()) return;
      const exited = once(current, 'exit');
      current.kill(signal);
      const timer = setTimeout(() => current.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
    signal(signal) {
      if (isRunning()) child?.kill(signal);
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      servers.delete(server);
      await server.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  servers.add(server);
  await server.start();
  return server;
}
