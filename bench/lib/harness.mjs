// Building blocks of the benchmark: servers under test (each with the probe preloaded),
// load-generator workers, the publisher, machine load, and statistics.
import { spawn, spawnSync, fork } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { publishBody } from './envelope.mjs';

/**
 * @typedef {import('./ipc.ts').Dialect} Dialect
 * @typedef {import('./ipc.ts').ServerStats} ServerStats
 * @typedef {import('./ipc.ts').Protocol} Protocol
 * @typedef {import('./ipc.ts').LoadGenProtocol} LoadGenProtocol
 * @typedef {'gateway' | 'gateway-b' | 'bare' | 'bare-jwt' | 'sio'} ServerKind
 */

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PROBE = fileURLToPath(new URL('./probe.mjs', import.meta.url));
/** @type {WorkerScript<LoadGenProtocol>} */
const WORKER = fileURLToPath(new URL('../loadgen/worker.mjs', import.meta.url));

export const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** What every published event carries besides its envelope: a payments-sized event, ~260 bytes on the wire. */
const EVENT_PADDING = 'x'.repeat(120);

/**
 * How the gateway runs: `bundle` is what its image runs (`npm run build:gateway`, then
 * `node dist/gateway/main.mjs`: the real entry point with its defaults); `source` is what
 * `npm run gateway` runs (TypeScript through the tsx loader), for comparison.
 * @type {Record<string, readonly string[]>}
 */
export const GATEWAY_ENTRIES = {
  bundle: ['dist/gateway/main.mjs'],
  source: ['--import', 'tsx', 'gateway/src/main.ts'],
  // The same bundle with its function names kept, for profiles (bench/profile.mjs --perf).
  profile: ['dist/gateway-profile/main.mjs'],
};
/** @type {Record<string, readonly string[]>} */
const BUILD_ARGS = {
  bundle: [],
  profile: ['--', '--outfile=dist/gateway-profile/main.mjs', '--minify-identifiers=false'],
};
let gatewayEntry = GATEWAY_ENTRIES['bundle'] ?? [];
/** @type {readonly string[]} */
let otherGatewayEntry = [];

/** Chooses how the gateway runs; the bundles are built first. */
export function useGatewayEntry(/** @type {string} */ entry) {
  const args = GATEWAY_ENTRIES[entry];
  if (args === undefined) throw new Error(`--gateway must be one of ${Object.keys(GATEWAY_ENTRIES).join(', ')}`);
  const buildArgs = BUILD_ARGS[entry];
  if (buildArgs !== undefined) {
    const build = spawnSync('npm', ['run', '--silent', 'build:gateway', ...buildArgs], { cwd: ROOT, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`npm run build:gateway failed:\n${build.stderr}${build.stdout}`);
  }
  gatewayEntry = args;
}

/**
 * Another build of the gateway to run beside it as server `gateway-b` (`--gateway-b <file>`): a
 * bundle made from other code (`npm run build:gateway -- --outfile=<file>` on another commit), so
 * that a change is measured before and after in the same run, under the same load.
 */
export function useOtherGateway(/** @type {string} */ bundle) {
  otherGatewayEntry = [bundle];
}

/**
 * Where each server under test comes from, and which handshake its clients make.
 * @type {Record<ServerKind, { readonly args: readonly string[], readonly label: string, readonly dialect: Dialect }>}
 */
const SERVERS = {
  gateway: { get args() { return gatewayEntry; }, label: 'gateway', dialect: 'gateway' },
  'gateway-b': { get args() { return otherGatewayEntry; }, label: 'gateway B', dialect: 'gateway' },
  bare: { args: ['bench/servers/bare-ws.mjs'], label: 'bare ws', dialect: 'bare' },
  // The connection-rate baseline: bare ws that verifies the same token with the same library.
  'bare-jwt': { args: ['bench/servers/bare-ws.mjs', '--verify-tokens'], label: 'bare ws + JWT', dialect: 'bare-jwt' },
  sio: { args: ['bench/servers/socketio.mjs'], label: 'Socket.IO 4', dialect: 'sio' },
};
/** @type {Record<ServerKind, string>} */
export const LABELS = {
  gateway: SERVERS.gateway.label,
  'gateway-b': SERVERS['gateway-b'].label,
  bare: SERVERS.bare.label,
  'bare-jwt': SERVERS['bare-jwt'].label,
  sio: SERVERS.sio.label,
};

/** Whether `name` is a server kind (for command-line flags). */
export function isServerKind(/** @type {string} */ name) {
  return Object.hasOwn(SERVERS, name);
}

/** The server kinds named in a flag such as `--servers gateway,bare`; throws on an unknown one. */
export function serverKinds(/** @type {string} */ list) {
  const kinds = list.split(',').filter(Boolean);
  const unknown = kinds.filter((kind) => !isServerKind(kind));
  if (unknown.length > 0) throw new Error(`unknown server ${unknown.join(', ')}; servers: ${Object.keys(SERVERS).join(', ')}`);
  return /** @type {ServerKind[]} */ (kinds);
}

/** Whether the server's clients show a token (whose tokens the load generator must sign first). */
export function takesTokens(/** @type {ServerKind} */ kind) {
  const { dialect } = SERVERS[kind];
  return dialect === 'gateway' || dialect === 'bare-jwt';
}

/** Whether the server is a build of the gateway (its publisher sends the admin token). */
export function isGateway(/** @type {ServerKind} */ kind) {
  return SERVERS[kind].dialect === 'gateway';
}

/**
 * Starts a server under test as a child process with the probe; resolves once it listens.
 * @param {ServerKind} kind
 * @param {{ secret: string, env?: Record<string, string> }} options
 */
export async function startServer(kind, { secret, env = {} }) {
  const spec = SERVERS[kind];
  if (spec.args.length === 0) throw new Error(`${kind}: no build to run (gateway-b needs --gateway-b <bundle>)`);
  const logDir = join(ROOT, 'bench', 'results', 'logs');
  mkdirSync(logDir, { recursive: true });
  const logPath = join(logDir, `${kind}-${Date.now()}.log`);
  const logFd = openSync(logPath, 'w');
  const extra = process.env['BENCH_SERVER_NODE_ARGS'] ? process.env['BENCH_SERVER_NODE_ARGS'].split(' ') : []; // e.g. --cpu-prof
  const child = spawn(process.execPath, ['--expose-gc', ...extra, '--import', PROBE, ...spec.args], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', PORT: '0', JWT_SECRET: secret, ...env },
    // Logs go to a file, as in production: a pipe the orchestrator drains late would block
    // pino's synchronous writes (sonic-boom sleeps 100 ms on EAGAIN) and show up as latency.
    stdio: ['ignore', logFd, logFd, 'ipc'],
  });
  closeSync(logFd);
  // Never leave a server behind, even when the orchestrator fails.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  /** @type {string[]} */
  const output = [];
  let seq = 0;
  /** @type {Map<number, (message: import('./ipc.ts').GcDone | ServerStats) => void>} */
  const pending = new Map();
  child.on('message', (/** @type {import('./ipc.ts').GcDone | ServerStats} */ message) => {
    const resolve = pending.get(message.seq);
    if (resolve) {
      pending.delete(message.seq);
      resolve(message);
    }
  });
  /** @type {string} */
  const url = await new Promise((resolve, reject) => {
    const head = () => readFileSync(logPath, 'utf8').slice(0, 20_000);
    const poll = setInterval(() => {
      for (const line of head().split('\n')) {
        const match = /"url":"(http:\/\/[^"]+)"/.exec(line);
        if (match?.[1] && line.includes('listening')) {
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
  /**
   * @template {'gc' | 'stats'} W
   * @param {W} what
   * @returns {Promise<W extends 'stats' ? ServerStats : import('./ipc.ts').GcDone>}
   */
  const probe = (what) =>
    new Promise((resolve, reject) => {
      const id = ++seq;
      pending.set(id, /** @type {(message: unknown) => void} */ (resolve));
      child.send(/** @type {import('./ipc.ts').ProbeRequest} */ ({ probe: what, seq: id }));
      setTimeout(() => pending.has(id) && reject(new Error(`${kind} probe ${what} timed out`)), 30_000).unref();
    });
  const { pid } = child;
  if (pid === undefined) throw new Error(`${kind} has no process id`); // not reachable once it listens
  return {
    kind,
    url,
    child,
    pid,
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

/** @typedef {Awaited<ReturnType<typeof startServer>>} Server */

/**
 * A child program's path, with the commands it answers (see ipc.ts).
 * @template {Protocol} P
 * @typedef {string & { readonly protocol?: P }} WorkerScript
 */

/**
 * One forked child, driven over IPC: `call` sends a command and resolves with its reply.
 * @template {Protocol} P
 * @typedef {{
 *   child: import('node:child_process').ChildProcess,
 *   call<C extends keyof P & string>(cmd: C, ...args: import('./ipc.ts').ArgsOf<P, C>): Promise<import('./ipc.ts').Reply<P, C>>,
 * }} Worker
 */

/**
 * Forks a child program and waits for its first message (it is ready).
 * @template {Protocol} P
 * @param {WorkerScript<P>} script
 * @param {string[]} [execArgv]
 * @returns {Promise<Worker<P>>}
 */
export async function forkWorker(script, execArgv) {
  const child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], ...(execArgv && { execArgv }) });
  let seq = 0;
  /** @type {Map<number, { resolve: (reply: never) => void, reject: (error: Error) => void }>} */
  const pending = new Map();
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`${script} exited (${code})`)));
  });
  child.on('message', (/** @type {{ seq: number, error?: string }} */ message) => {
    const settle = pending.get(message.seq);
    if (settle) {
      pending.delete(message.seq);
      if (message.error) settle.reject(new Error(message.error));
      else settle.resolve(/** @type {never} */ (message));
    }
  });
  return {
    child,
    call(cmd, ...[args]) {
      return new Promise((resolve, reject) => {
        const id = ++seq;
        pending.set(id, { resolve, reject });
        child.send({ cmd, seq: id, ...args });
      });
    },
  };
}

/**
 * A pool of forked workers of one program (the load generator unless `script` names another).
 * @template {Protocol} [P=LoadGenProtocol]
 * @param {number} count
 * @param {{ script?: WorkerScript<P>, execArgv?: string[] }} [options]
 */
export async function startWorkers(count, { script = /** @type {WorkerScript<P>} */ (WORKER), execArgv } = {}) {
  const workers = await Promise.all(Array.from({ length: count }, () => forkWorker(script, execArgv)));
  return {
    workers,
    /** Splits [from, from + count) into one contiguous share per worker. */
    shares(/** @type {number} */ from, /** @type {number} */ count) {
      const per = Math.ceil(count / workers.length);
      return workers.map((worker, i) => ({ worker, from: from + i * per, count: Math.max(0, Math.min(per, count - i * per)) }));
    },
    /**
     * The same command to every worker.
     * @type {<C extends keyof P & string>(cmd: C, ...args: import('./ipc.ts').ArgsOf<P, C>) => Promise<Array<import('./ipc.ts').Reply<P, C>>>}
     */
    all: (cmd, ...args) => Promise.all(workers.map((worker) => worker.call(cmd, ...args))),
    async stop() {
      await Promise.all(
        workers.map(
          (w) =>
            new Promise((resolve) => {
              if (w.child.exitCode !== null) return resolve(undefined);
              w.child.once('exit', resolve);
              w.child.send({ cmd: 'exit', seq: 0 });
              setTimeout(() => w.child.kill('SIGKILL'), 3_000).unref();
            }),
        ),
      );
    },
  };
}

/**
 * The load generator's pool (bench/loadgen/worker.mjs) with what the phases ask of it.
 * @param {number} count
 */
export async function startLoadGenerators(count) {
  const pool = await startWorkers(count);
  return {
    ...pool,
    /**
     * Opens sockets [from, from + count) on `server`, each worker its share, `concurrency`
     * handshakes in flight per worker, from the given loopback source addresses.
     * @param {{ kind: ServerKind, url: string }} server
     * @param {{ from?: number, count: number, sourceAddresses: readonly string[], concurrency?: number, vendorBelow?: number }} options
     */
    async connect(server, { from = 0, count, sourceAddresses, concurrency = 64, vendorBelow = 0 }) {
      const results = await Promise.all(
        pool.shares(from, count).map(({ worker, from: start, count: share }) =>
          share > 0
            ? worker.call('connect', { kind: SERVERS[server.kind].dialect, url: server.url.replace('http', 'ws'), from: start, count: share, sourceAddresses, concurrency, vendorBelow })
            : { opened: 0, failed: 0, errors: {} },
        ),
      );
      const opened = results.reduce((sum, r) => sum + r.opened, 0);
      const failed = results.reduce((sum, r) => sum + r.failed, 0);
      return { opened, failed, errors: results.map((r) => r.errors) };
    },
    /** Resolves with the deliveries counted once they reach `expected`, or with fewer after `timeoutMs`. */
    async waitForDeliveries(/** @type {number} */ expected, /** @type {number} */ timeoutMs) {
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
      const usages = await pool.all('cpu');
      return usages.reduce((sum, u) => sum + u.cpuMicros, 0);
    },
    async received() {
      const counts = await pool.all('count');
      return counts.reduce((sum, c) => sum + c.received, 0);
    },
  };
}

/** @typedef {Awaited<ReturnType<typeof startLoadGenerators>>} LoadGenerators */

/** Loopback source addresses, handed out in fresh windows so TIME_WAIT ports never collide. */
export class SourceAddresses {
  next = 0;
  take(/** @type {number} */ n) {
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
  /** @param {string} url @param {string | undefined} token the gateway's (bearer); none for the baselines */
  constructor(url, token, padding = EVENT_PADDING) {
    this.url = new URL('/api/events', url);
    this.token = token;
    this.padding = padding;
  }
  async post(/** @type {import('@payments-system/protocol').Room} */ room) {
    try {
      return await this.postOnce(room);
    } catch (error) {
      // The keep-alive race: the server closed an idle connection as we reused it. Nothing was
      // processed (no response started), so one retry on a fresh connection is safe.
      if (error instanceof PublishError && error.code === 'ECONNRESET' && error.reused) return this.postOnce(room);
      throw error;
    }
  }
  /** @param {import('@payments-system/protocol').Room} room @returns {Promise<void>} */
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
      req.on('error', (/** @type {NodeJS.ErrnoException} */ error) => reject(new PublishError(error, req.reusedSocket)));
      req.end(body);
    });
  }
  close() {
    this.agent.destroy();
  }
}

/** A publish request that failed on its connection; `reused`: the connection was a kept-alive one. */
class PublishError extends Error {
  /** @param {NodeJS.ErrnoException} cause @param {boolean} reused */
  constructor(cause, reused) {
    super(cause.message, { cause });
    this.code = cause.code;
    this.reused = reused;
  }
}

/** Machine-wide CPU counters (jiffies) from /proc/stat, to report the load beside each figure. */
export function machineCpu() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = line[3] + line[4];
  const total = line.reduce((a, b) => a + b, 0);
  return { idle, total };
}
/** @typedef {ReturnType<typeof machineCpu>} MachineCpu */
/** Cores busy between two readings of machineCpu. */
export function busyCores(/** @type {MachineCpu} */ before, /** @type {MachineCpu} */ after, cores = 2) {
  const total = after.total - before.total;
  return total > 0 ? (cores * (total - (after.idle - before.idle))) / total : 0;
}
export function loadAverage() {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

/** The p-th percentile of values sorted in ascending order. */
export function percentile(/** @type {ArrayLike<number>} */ sorted, /** @type {number} */ p) {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return /** @type {number} */ (sorted[index]);
}
export function median(/** @type {readonly number[]} */ values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
export function spread(/** @type {readonly number[]} */ values) {
  const finite = values.filter((v) => Number.isFinite(v));
  return finite.length ? [Math.min(...finite), Math.max(...finite)] : [NaN, NaN];
}
