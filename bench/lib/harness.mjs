// Building blocks of the benchmark: servers under test (each with the probe preloaded),
// load-generator workers, the publisher, machine load, and statistics.
import { spawn, spawnSync, fork } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { publishBody } from './envelope.mjs';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PROBE = fileURLToPath(new URL('./probe.mjs', import.meta.url));
const WORKER = fileURLToPath(new URL('../loadgen/worker.mjs', import.meta.url));

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** What every published event carries besides its envelope: a payments-sized event, ~260 bytes on the wire. */
const EVENT_PADDING = 'x'.repeat(120);

/**
 * How the gateway runs: `bundle` is what its image runs (`npm run build:gateway`, then
 * `node dist/gateway/main.mjs`: the real entry point with its defaults); `source` is what
 * `npm run gateway` runs (TypeScript through the tsx loader), for comparison.
 */
export const GATEWAY_ENTRIES = {
  bundle: ['dist/gateway/main.mjs'],
  source: ['--import', 'tsx', 'gateway/src/main.ts'],
  // The same bundle with its function names kept, for profiles (bench/profile.mjs --perf).
  profile: ['dist/gateway-profile/main.mjs'],
};
const BUILD_ARGS = {
  bundle: [],
  profile: ['--', '--outfile=dist/gateway-profile/main.mjs', '--minify-identifiers=false'],
};
let gatewayEntry = GATEWAY_ENTRIES.bundle;

/** Chooses how the gateway runs; the bundles are built first. */
export function useGatewayEntry(entry) {
  if (!(entry in GATEWAY_ENTRIES)) throw new Error(`--gateway must be one of ${Object.keys(GATEWAY_ENTRIES).join(', ')}`);
  if (entry in BUILD_ARGS) {
    const build = spawnSync('npm', ['run', '--silent', 'build:gateway', ...BUILD_ARGS[entry]], { cwd: ROOT, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`npm run build:gateway failed:\n${build.stderr}${build.stdout}`);
  }
  gatewayEntry = GATEWAY_ENTRIES[entry];
}

/** Where each server under test comes from. */
const SERVERS = {
  gateway: { get args() { return gatewayEntry; }, label: 'gateway' },
  bare: { args: ['bench/servers/bare-ws.mjs'], label: 'bare ws' },
  // The connection-rate baseline: bare ws that verifies the same token with the same library.
  'bare-jwt': { args: ['bench/servers/bare-ws.mjs', '--verify-tokens'], label: 'bare ws + JWT' },
  sio: { args: ['bench/servers/socketio.mjs'], label: 'Socket.IO 4' },
};
export const LABELS = Object.fromEntries(Object.entries(SERVERS).map(([kind, { label }]) => [kind, label]));

/** Starts a server under test as a child process with the probe; resolves once it listens. */
export async function startServer(kind, { secret, env = {} } = {}) {
  const spec = SERVERS[kind];
  const logDir = join(ROOT, 'bench', 'results', 'logs');
  mkdirSync(logDir, { recursive: true });
  const logPath = join(logDir, `${kind}-${Date.now()}.log`);
  const logFd = openSync(logPath, 'w');
  const extra = process.env.BENCH_SERVER_NODE_ARGS ? process.env.BENCH_SERVER_NODE_ARGS.split(' ') : []; // e.g. --cpu-prof
  const child = spawn(process.execPath, ['--expose-gc', ...extra, '--import', PROBE, ...spec.args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', JWT_SECRET: secret, ...env },
    // Logs go to a file, as in production: a pipe the orchestrator drains late would block
    // pino's synchronous writes (sonic-boom sleeps 100 ms on EAGAIN) and show up as latency.
    stdio: ['ignore', logFd, logFd, 'ipc'],
  });
  closeSync(logFd);
  // Never leave a server behind, even when the orchestrator fails.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  const output = [];
  let seq = 0;
  const pending = new Map();
  child.on('message', (message) => {
    const resolve = pending.get(message.seq);
    if (resolve) {
      pending.delete(message.seq);
      resolve(message);
    }
  });
  const url = await new Promise((resolve, reject) => {
    const head = () => readFileSync(logPath, 'utf8').slice(0, 20_000);
    const poll = setInterval(() => {
      for (const line of head().split('\n')) {
        const match = /"url":"(http:\/\/[^"]+)"/.exec(line);
        if (match && line.includes('listening')) {
          clearInterval(poll);
          output.push(line);
          resolve(match[1]);
        }
      }
    }, 20);
    child.once('exit', (code) => {
      clearInterval(poll);
      reject(new Error(`${kind} exited (${code}) before listening:\n${head()}`));
    });
    setTimeout(() => {
      clearInterval(poll);
      reject(new Error(`${kind} did not listen within 20 s:\n${head()}`));
    }, 20_000).unref();
  });
  const probe = (what) =>
    new Promise((resolve, reject) => {
      const id = ++seq;
      pending.set(id, resolve);
      child.send({ probe: what, seq: id });
      setTimeout(() => pending.has(id) && reject(new Error(`${kind} probe ${what} timed out`)), 30_000).unref();
    });
  return {
    kind,
    url,
    child,
    logPath,
    output,
    probe,
    stats: () => probe('stats'),
    /** Full GC (twice), a pause for the allocator, then stats. */
    async settledStats(pauseMs = 500) {
      await probe('gc');
      await sleep(pauseMs);
      await probe('gc');
      return probe('stats');
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A pool of forked load-generator workers (`script`: another worker program, same IPC calls). */
export async function startWorkers(count, { script = WORKER, execArgv } = {}) {
  const workers = await Promise.all(
    Array.from({ length: count }, async () => {
      const child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], ...(execArgv && { execArgv }) });
      let seq = 0;
      const pending = new Map();
      await new Promise((resolve, reject) => {
        child.once('message', resolve);
        child.once('exit', (code) => reject(new Error(`load-generator worker exited (${code})`)));
      });
      child.on('message', (message) => {
        const settle = pending.get(message.seq);
        if (settle) {
          pending.delete(message.seq);
          if (message.error) settle.reject(new Error(message.error));
          else settle.resolve(message);
        }
      });
      return {
        child,
        call(cmd, args = {}) {
          return new Promise((resolve, reject) => {
            const id = ++seq;
            pending.set(id, { resolve, reject });
            child.send({ cmd, seq: id, ...args });
          });
        },
      };
    }),
  );
  return {
    workers,
    /** Splits [from, from + count) into one contiguous share per worker. */
    shares(from, count) {
      const per = Math.ceil(count / workers.length);
      return workers.map((worker, i) => ({ worker, from: from + i * per, count: Math.max(0, Math.min(per, count - i * per)) }));
    },
    all(cmd, args) {
      return Promise.all(workers.map((worker) => worker.call(cmd, args)));
    },
    /**
     * Opens sockets [from, from + count) on `server`, each worker its share, `concurrency`
     * handshakes in flight per worker, from the given loopback source addresses.
     */
    async connect(server, { from = 0, count, sourceAddresses, concurrency = 64, vendorBelow = 0 }) {
      const results = await Promise.all(
        this.shares(from, count).map(({ worker, from: start, count: share }) =>
          share > 0
            ? worker.call('connect', { kind: server.kind, url: server.url.replace('http', 'ws'), from: start, count: share, sourceAddresses, concurrency, vendorBelow })
            : { opened: 0, failed: 0, errors: {} },
        ),
      );
      const opened = results.reduce((sum, r) => sum + r.opened, 0);
      const failed = results.reduce((sum, r) => sum + r.failed, 0);
      return { opened, failed, errors: results.map((r) => r.errors) };
    },
    /** Resolves with the deliveries counted once they reach `expected`, or with fewer after `timeoutMs`. */
    async waitForDeliveries(expected, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      let received = 0;
      while (Date.now() < deadline) {
        received = await this.received();
        if (received >= expected) return received;
        await sleep(10);
      }
      return received;
    },
    /** CPU time (user + system, µs) the workers have used so far, summed. */
    async cpuMicros() {
      const usages = await this.all('cpu');
      return usages.reduce((sum, u) => sum + u.cpuMicros, 0);
    },
    async received() {
      const counts = await this.all('count');
      return counts.reduce((sum, c) => sum + c.received, 0);
    },
    async stop() {
      await Promise.all(
        workers.map(
          (w) =>
            new Promise((resolve) => {
              if (w.child.exitCode !== null) return resolve();
              w.child.once('exit', resolve);
              w.child.send({ cmd: 'exit', seq: 0 });
              setTimeout(() => w.child.kill('SIGKILL'), 3_000).unref();
            }),
        ),
      );
    },
  };
}

/** Loopback source addresses, handed out in fresh windows so TIME_WAIT ports never collide. */
export class SourceAddresses {
  next = 0;
  take(n) {
    const list = [];
    for (let i = 0; i < n; i++) {
      list.push(`127.0.0.${2 + (this.next % 250)}`);
      this.next++;
    }
    return list;
  }
}

/** POSTs events over keep-alive connections (the same request to every server). */
export class Publisher {
  agent = new Agent({ keepAlive: true, maxSockets: 64 });
  constructor(url, token, padding = EVENT_PADDING) {
    this.url = new URL('/api/events', url);
    this.token = token;
    this.padding = padding;
  }
  async post(room) {
    try {
      return await this.postOnce(room);
    } catch (error) {
      // The keep-alive race: the server closed an idle connection as we reused it. Nothing was
      // processed (no response started), so one retry on a fresh connection is safe.
      if (error.code === 'ECONNRESET' && error.reused) return this.postOnce(room);
      throw error;
    }
  }
  postOnce(room) {
    const body = publishBody(room, this.padding);
    return new Promise((resolve, reject) => {
      const req = request(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 202 ? resolve() : reject(new Error(`publish answered ${res.statusCode}`))));
        },
      );
      req.on('error', (error) => {
        error.reused = req.reusedSocket;
        reject(error);
      });
      req.end(body);
    });
  }
  close() {
    this.agent.destroy();
  }
}

/** Machine-wide CPU counters (jiffies) from /proc/stat, to report the load beside each figure. */
export function machineCpu() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = line[3] + line[4];
  const total = line.reduce((a, b) => a + b, 0);
  return { idle, total };
}
export function busyCores(before, after, cores = 2) {
  const total = after.total - before.total;
  return total > 0 ? (cores * (total - (after.idle - before.idle))) / total : 0;
}
export function loadAverage() {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}
export function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
export function spread(values) {
  const finite = values.filter((v) => Number.isFinite(v));
  return finite.length ? [Math.min(...finite), Math.max(...finite)] : [NaN, NaN];
}
