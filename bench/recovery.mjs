#!/usr/bin/env node
// `npm run bench:recovery`: what a gateway's death costs its clients under real traffic. A real
// redis-server (append-only, fsync always), gateways A and B (the bundle, REDIS_URL), N customers
// on A spread over several load-generator processes, background traffic through the bus to M users'
// rooms (most of them offline) plus notices to role:CUSTOMER; then `kill -9` A. Every client
// reconnects to B after a random delay in the jitter window with `?since=` and `resume`, as the
// library does. Per client: resumed or failed (by reason), lost, duplicated; time until 99 % are
// live; CPU of B, of Redis and of the load generator; the kernel's listen-queue and SYN counters.
// See docs/benchmarks.md ("Recovery after a gateway's death").
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ROOT, SourceAddresses, forkWorker, loadAverage, percentile, sleep, startServer, startWorkers, useGatewayEntry } from './lib/harness.mjs';
import { startRedis } from './lib/redis.mjs';
import { renderRecoveryChart, renderRecoveryTable } from './lib/recovery-report.mjs';

const { values: flags } = parseArgs({
  options: {
    clients: { type: 'string', default: '2000' },
    rate: { type: 'string', default: '250' }, // events/s to users' rooms
    users: { type: 'string', default: '20000' },
    'shared-rate': { type: 'string', default: '1' }, // events/s to role:CUSTOMER (every client's room)
    workers: { type: 'string', default: '4' },
    'source-addresses': { type: 'string', default: '8' }, // loopback source addresses per worker (0: the kernel picks)
    'jitter-min': { type: 'string', default: '1000' },
    'jitter-max': { type: 'string', default: '4000' },
    before: { type: 'string', default: '5' }, // seconds of traffic before the kill
    settle: { type: 'string', default: '3' }, // seconds of traffic after everyone is live again
    'recovery-max-events': { type: 'string', default: '1000' },
    gateway: { type: 'string', default: 'bundle' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: join(ROOT, 'bench', 'results') },
    docs: { type: 'boolean', default: false },
  },
});

const quick = flags.quick;
const P = {
  clients: Number(quick ? 60 : flags.clients),
  rate: Number(quick ? 50 : flags.rate),
  users: Number(quick ? 200 : flags.users),
  sharedRate: Number(flags['shared-rate']),
  workers: Number(quick ? 2 : flags.workers),
  sourceAddresses: Number(flags['source-addresses']),
  jitterMinMs: Number(quick ? 200 : flags['jitter-min']),
  jitterMaxMs: Number(quick ? 600 : flags['jitter-max']),
  beforeSeconds: Number(quick ? 1.5 : flags.before),
  settleSeconds: Number(quick ? 0.5 : flags.settle),
  // Tiny in the smoke test, so that a resume counting other users' events would fail there too.
  recoveryMaxEvents: Number(quick ? 20 : flags['recovery-max-events']),
};
const log = (/** @type {unknown[]} */ ...args) => console.error(`[recovery ${new Date().toISOString().slice(11, 19)}]`, ...args);
/**
 * @template {import('./lib/ipc.ts').Protocol} P
 * @typedef {import('./lib/harness.mjs').WorkerScript<P>} WorkerScript
 */
/** @type {WorkerScript<import('./lib/ipc.ts').PublisherProtocol>} */
const PUBLISHER = fileURLToPath(new URL('./recovery/publisher.mts', import.meta.url));
/** @type {WorkerScript<import('./lib/ipc.ts').RecoveringProtocol>} */
const RECOVERING = fileURLToPath(new URL('./loadgen/recovering.mjs', import.meta.url));

/** The kernel's TCP counters (machine-wide: other processes' connections count too). */
function tcpCounters() {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
  /** @type {Record<string, number>} */
  const counters = {};
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = lines[i].split(/\s+/);
    const values = lines[i + 1].split(/\s+/);
    if (names[0] !== 'TcpExt:') continue;
    for (let j = 1; j < names.length; j++) counters[names[j]] = Number(values[j]);
  }
  return { listenOverflows: counters['ListenOverflows'] ?? NaN, listenDrops: counters['ListenDrops'] ?? NaN, synRetrans: counters['TCPSynRetrans'] ?? NaN };
}

/** Connections waiting in B's accept queue now (Recv-Q of its listening socket, from `ss`). */
function acceptQueue(/** @type {string} */ port) {
  const out = spawnSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' }).stdout ?? '';
  return Number(out.trim().split(/\s+/)[1] ?? NaN);
}

/** Open sockets on a gateway, from its health endpoint. */
async function health(/** @type {string} */ url) {
  const response = await fetch(`${url}/api/health`);
  return /** @type {{ connections: number }} */ (await response.json());
}

async function resumeMetrics(/** @type {string} */ url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  /** @type {Record<string, number>} */
  const outcomes = {};
  for (const [, outcome = '', count] of text.matchAll(/^gateway_resumes_total\{outcome="([^"]+)"\} (\d+)/gm)) outcomes[outcome] = Number(count);
  return outcomes;
}

async function main() {
  mkdirSync(flags.out, { recursive: true });
  useGatewayEntry(flags.gateway);
  /** @type {import('./lib/results.ts').RecoveryReport['machine']} */
  const machine = { cpus: cpus().length, model: cpus()[0]?.model, memGiB: +(totalmem() / 2 ** 30).toFixed(1), node: process.version, loadAtStart: loadAverage() };
  const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
  log(`machine: ${machine.cpus} × ${machine.model}, load ${machine.loadAtStart}, somaxconn ${somaxconn}`);
  log('parameters:', JSON.stringify(P));

  const secret = randomBytes(32).toString('hex');
  const redis = await startRedis();
  const env = { REDIS_URL: redis.url, RECOVERY_MAX_EVENTS: String(P.recoveryMaxEvents) };
  const a = await startServer('gateway', { secret, env });
  const b = await startServer('gateway', { secret, env });
  const pool = await startWorkers(P.workers, { script: RECOVERING });
  const loadgenCpuMicros = async () => (await pool.all('cpu')).reduce((sum, { cpuMicros }) => sum + cpuMicros, 0);
  const publisher = await forkWorker(PUBLISHER, ['--import', 'tsx']);
  const addresses = new SourceAddresses();
  /** @type {Array<Omit<import('./lib/results.ts').RecoverySample, 't'>>} */
  const samples = [];
  /** @type {NodeJS.Timeout | undefined} */
  let sampling;
  try {
    await Promise.all(
      pool.shares(0, P.clients).map(({ worker, from, count }) =>
        worker.call('setup', {
          secret,
          from,
          count,
          url: a.url.replace('http', 'ws'),
          fallbackUrl: b.url.replace('http', 'ws'),
          sourceAddresses: P.sourceAddresses > 0 ? addresses.take(P.sourceAddresses) : [undefined],
          jitterMinMs: P.jitterMinMs,
          jitterMaxMs: P.jitterMaxMs,
        }),
      ),
    );
    const connected = await pool.all('connect', { url: a.url.replace('http', 'ws'), concurrency: 32 });
    const failed = connected.reduce((sum, r) => sum + r.failed, 0);
    if (failed > 0) throw new Error(`${failed} clients could not connect to A`);
    log(`${P.clients} clients on A (${(await health(a.url)).connections} sockets)`);

    await publisher.call('start', { redisUrl: redis.url, rate: P.rate, users: P.users, sharedRate: P.sharedRate, roomCount: P.recoveryMaxEvents + 1 });
    const progress = async () => {
      const parts = await pool.all('progress');
      return { closed: parts.reduce((s, p) => s + p.closed, 0), live: parts.flatMap((p) => p.live) };
    };
    // A timeline every 250 ms: B's and Redis's CPU, the load generator's, and how many clients are live.
    let previous = { at: Date.now(), b: (await b.stats()).cpuMicros, redis: redis.cpuSeconds(), loadgen: await loadgenCpuMicros() };
    sampling = setInterval(async () => {
      try {
        const stats = await b.stats();
        const now = { at: Date.now(), b: stats.cpuMicros, redis: redis.cpuSeconds(), loadgen: await loadgenCpuMicros() };
        const seconds = (now.at - previous.at) / 1000;
        samples.push({
          at: now.at,
          bCores: (now.b - previous.b) / 1e6 / seconds,
          redisCores: (now.redis - previous.redis) / seconds,
          loadgenCores: (now.loadgen - previous.loadgen) / 1e6 / seconds,
          bLoopDelayMaxMs: stats.loopDelayMaxMs,
          bAcceptQueue: acceptQueue(new URL(b.url).port),
        });
        previous = now;
      } catch {}
    }, 250);
    await sleep(P.beforeSeconds * 1000);

    const tcpBefore = tcpCounters();
    const bCpuBefore = (await b.stats()).cpuMicros;
    const redisCpuBefore = redis.cpuSeconds();
    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    log('kill -9 gateway A');
    const deadline = killedAt + P.jitterMaxMs + 60_000;
    let state = await progress();
    while ((state.closed < P.clients || state.live.length < P.clients) && Date.now() < deadline) {
      await sleep(100);
      state = await progress();
    }
    const allLiveAt = Date.now();
    const bCpuStorm = ((await b.stats()).cpuMicros - bCpuBefore) / 1e6;
    const redisCpuStorm = redis.cpuSeconds() - redisCpuBefore;
    const tcpAfter = tcpCounters();
    log(`${state.live.length} of ${P.clients} live again after ${allLiveAt - killedAt} ms`);
    await sleep(P.settleSeconds * 1000);
    const { accepted, failed: publishFailed } = await publisher.call('stop');
    const publishedSeconds = (Date.now() - killedAt) / 1000 + P.beforeSeconds;

    // What each worker's clients should have: their user's events and the shared ones, in id order.
    /** @type {string[]} */
    const shared = [];
    /** @type {Map<number, string[]>} */
    const byUser = new Map();
    for (const [id, room] of accepted) {
      if (room === 'role:CUSTOMER') shared.push(id);
      else {
        const index = Number(room.slice('user:u'.length));
        if (index >= P.clients) continue;
        const ids = byUser.get(index);
        if (ids) ids.push(id);
        else byUser.set(index, [id]);
      }
    }
    const expectations = pool.shares(0, P.clients).map(({ from, count }) => {
      /** @type {Record<number, string[]>} */
      const user = {};
      for (let index = from; index < from + count; index++) {
        const ids = byUser.get(index);
        if (ids) user[index] = ids;
      }
      return { user, shared };
    });
    const caughtUpBy = Date.now() + 20_000;
    for (;;) {
      const missing = (await Promise.all(pool.workers.map((worker, i) => worker.call('lastReceived', expectations[i] ?? { user: {}, shared })))).reduce((s, r) => s + r.missing, 0);
      if (missing === 0 || Date.now() > caughtUpBy) break;
      await sleep(100);
    }
    clearInterval(sampling);
    const reports = (await Promise.all(pool.workers.map((worker, i) => worker.call('report', expectations[i] ?? { user: {}, shared })))).flatMap((r) => r.clients);
    const metricsB = await resumeMetrics(b.url);

    /** @type {Record<string, number>} */
    const outcomes = {};
    for (const r of reports) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    const sum = (/** @type {'lost' | 'duplicated' | 'outOfOrder' | 'unexpected' | 'overlapDropped' | 'expected' | 'received' | 'reconnectAttempts'} */ key) =>
      reports.reduce((s, r) => s + r[key], 0);
    const liveAfter = reports.flatMap((r) => (r.liveAt !== undefined ? [r.liveAt - killedAt] : [])).sort((x, y) => x - y);
    /** @typedef {'closedAt' | 'reconnectingAt' | 'openedAt' | 'liveAt'} Moment */
    const spans = (/** @type {Moment} */ from, /** @type {Moment} */ to) =>
      reports.flatMap((r) => {
        const start = r[from];
        const end = r[to];
        return start !== undefined && end !== undefined ? [end - start] : [];
      }).sort((x, y) => x - y);
    const handshake = spans('reconnectingAt', 'openedAt');
    const resume = spans('openedAt', 'liveAt');
    /** @type {Record<string, number>} */
    const connectFailures = {};
    for (const r of reports) for (const [why, n] of Object.entries(r.connectFailures)) connectFailures[why] = (connectFailures[why] ?? 0) + n;
    const storm = samples.filter((s) => s.at > killedAt && s.at <= allLiveAt);
    const peak = (/** @type {'bCores' | 'redisCores' | 'loadgenCores'} */ key) => Math.max(0, ...storm.map((s) => s[key]));
    const stormSeconds = (allLiveAt - killedAt) / 1000;
    const result = {
      clients: P.clients,
      outcomes,
      resumedShare: (outcomes['resumed'] ?? 0) / P.clients,
      lost: sum('lost'),
      duplicated: sum('duplicated'),
      outOfOrder: sum('outOfOrder'),
      unexpected: sum('unexpected'),
      overlapDropped: sum('overlapDropped'),
      expectedDeliveries: sum('expected'),
      delivered: sum('received'),
      eventsMissedPerClient: percentile(reports.map((r) => r.expected).sort((x, y) => x - y), 50),
      liveMs: { p50: percentile(liveAfter, 50), p99: percentile(liveAfter, 99), max: liveAfter.at(-1) },
      handshakeMs: { p50: percentile(handshake, 50), p99: percentile(handshake, 99), max: handshake.at(-1) },
      resumeMs: { p50: percentile(resume, 50), p99: percentile(resume, 99), max: resume.at(-1) },
      reconnectAttempts: sum('reconnectAttempts'),
      connectFailures,
      published: accepted.length,
      publishFailed,
      publishedPerSecond: accepted.length / publishedSeconds,
      bCoresStorm: bCpuStorm / stormSeconds,
      bCoresPeak: peak('bCores'),
      redisCoresStorm: redisCpuStorm / stormSeconds,
      redisCoresPeak: peak('redisCores'),
      loadgenCoresPeak: peak('loadgenCores'),
      tcp: {
        listenOverflows: tcpAfter.listenOverflows - tcpBefore.listenOverflows,
        listenDrops: tcpAfter.listenDrops - tcpBefore.listenDrops,
        synRetrans: tcpAfter.synRetrans - tcpBefore.synRetrans,
      },
      resumesOnB: metricsB,
      targetLiveMs: P.jitterMaxMs + 2000,
    };
    machine.loadAtEnd = loadAverage();
    const timeline = samples.map((s) => ({ ...s, t: (s.at - killedAt) / 1000 }));
    const liveCurve = liveAfter.map((ms, i) => ({ t: ms / 1000, live: (i + 1) / P.clients }));
    const report = { machine, somaxconn, parameters: P, result, timeline, liveCurve };
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    writeFileSync(join(flags.out, `recovery-${stamp}.json`), JSON.stringify(report, null, 2));
    writeFileSync(join(flags.out, 'recovery-latest.json'), JSON.stringify(report, null, 2));
    const table = renderRecoveryTable(report);
    writeFileSync(join(flags.out, 'recovery-latest.md'), table);
    console.log(table);
    const svg = await renderRecoveryChart(report);
    writeFileSync(join(flags.out, 'recovery-chart.svg'), svg);
    if (flags.docs) copyFileSync(join(flags.out, 'recovery-chart.svg'), join(ROOT, 'docs', 'recovery.svg'));
  } finally {
    clearInterval(sampling);
    publisher.child.kill('SIGKILL');
    await pool.all('stop').catch(() => {});
    await pool.stop();
    await Promise.all([a.stop(), b.stop()]);
    await redis.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
