#!/usr/bin/env node
// `npm run bench`: the gateway against a bare `ws` server and Socket.IO 4, side by side, each
// driven by its own instance of one load generator (worker processes on several loopback source
// addresses). Prints a table of absolute figures and ratios, writes JSON and an SVG chart under
// bench/results/.
// See docs/benchmarks.md for what each figure means and how it is measured.
import { mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  LABELS,
  Publisher,
  ROOT,
  SourceAddresses,
  busyCores,
  isGateway,
  loadAverage,
  machineCpu,
  percentile,
  serverKinds,
  sleep,
  startLoadGenerators,
  startServer,
  takesTokens,
  useGatewayEntry,
  useOtherGateway,
} from './lib/harness.mjs';
import { adminToken } from './lib/tokens.mjs';
import { renderChart, renderTable, summarize } from './lib/report.mjs';
import { holdTest } from './lib/hold.mjs';
import { presenceCost, renderPresence } from './lib/presence.mjs';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    repeats: { type: 'string' },
    servers: { type: 'string', default: 'gateway,bare,bare-jwt,sio' },
    gateway: { type: 'string', default: 'bundle' }, // bundle (what the image runs) or source (tsx)
    'gateway-b': { type: 'string' }, // another build of the gateway, run beside it as server gateway-b
    connections: { type: 'string' }, // memory test N
    rate: { type: 'string' }, // connection-rate N (also the large room)
    small: { type: 'string' }, // small room
    workers: { type: 'string' },
    events: { type: 'string' }, // isolated broadcasts per throughput phase
    'burst-size': { type: 'string' },
    bursts: { type: 'string' },
    slices: { type: 'string' }, // each throughput phase alternates between the servers in this many slices
    'latency-seconds': { type: 'string' },
    'connect-only': { type: 'boolean', default: false }, // only the connection-rate phase (2)
    'no-presence': { type: 'boolean', default: false }, // skips phase (5), presence watchers
    hold: { type: 'boolean', default: false },
    'hold-only': { type: 'boolean', default: false },
    'hold-seconds': { type: 'string' },
    'hold-sockets': { type: 'string' },
    out: { type: 'string', default: join(ROOT, 'bench', 'results') },
    docs: { type: 'boolean', default: false },
  },
});

const quick = flags.quick;
const P = {
  repeats: Number(flags.repeats ?? (quick ? 1 : 3)),
  memoryN: Number(flags.connections ?? (quick ? 60 : 10_000)),
  rateN: Number(flags.rate ?? (quick ? 40 : 5_000)),
  smallRoom: Number(flags.small ?? (quick ? 10 : 1_000)),
  workers: Number(flags.workers ?? (quick ? 2 : 3)),
  events: Number(flags.events ?? (quick ? 5 : 0)), // 0: sized so each phase delivers ~1M frames
  burstSize: Number(flags['burst-size'] ?? 10),
  bursts: Number(flags.bursts ?? (quick ? 2 : 0)),
  slices: Number(flags.slices ?? (quick ? 2 : 5)),
  latencySeconds: Number(flags['latency-seconds'] ?? (quick ? 0.5 : 8)),
  concurrency: quick ? 8 : 64,
  holdSeconds: Number(flags['hold-seconds'] ?? 300),
  holdSockets: flags['hold-sockets'] ? Number(flags['hold-sockets']) : undefined,
  connectOnly: flags['connect-only'],
  presence: !flags['no-presence'],
};
const servers = serverKinds(flags.servers);
// Another build of the gateway is measured right after the gateway, in every phase.
if (flags['gateway-b'] && !servers.includes('gateway-b')) servers.splice(servers.indexOf('gateway') + 1, 0, 'gateway-b');
/**
 * Baselines measured in the connection phase only (the others' phases would repeat bare ws's).
 * @type {ReadonlySet<import('./lib/harness.mjs').ServerKind>}
 */
const CONNECT_ONLY = new Set(['bare-jwt']);
const secret = randomBytes(32).toString('hex');
const publisherToken = adminToken(secret);
const addresses = new SourceAddresses();
const log = (/** @type {unknown[]} */ ...args) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...args);

/**
 * @typedef {import('./lib/harness.mjs').ServerKind} ServerKind
 * @typedef {import('./lib/harness.mjs').Server} Server
 * @typedef {import('./lib/harness.mjs').LoadGenerators} LoadGenerators
 * @typedef {import('./lib/results.ts').RunResult} RunResult
 * @typedef {import('@payments-system/protocol').Room} Room
 * @typedef {'isolated' | 'burst'} Mode
 * @typedef {{ kind: ServerKind, server: Server, pool: LoadGenerators, publisher: Publisher, result: RunResult,
 *   empty: import('./lib/ipc.ts').ServerStats }} Session
 * @typedef {Awaited<ReturnType<typeof throughputSlice>>} Slice
 */

/** @param {LoadGenerators} pool @param {Server} server @param {number} from @param {number} count @param {number} vendorBelow */
async function connectBatch(pool, server, from, count, vendorBelow) {
  const { opened, failed, errors } = await pool.connect(server, { from, count, sourceAddresses: addresses.take(8), concurrency: P.concurrency, vendorBelow });
  if (failed > 0) log(`  ${server.kind}: ${failed} connections failed`, errors);
  return { opened, failed };
}

/** Events per throughput phase: sized so that each phase delivers about a million frames. */
function phaseEvents(/** @type {Mode} */ mode, /** @type {number} */ roomSize) {
  if (mode === 'isolated') return P.events || Math.max(20, Math.round(1_000_000 / roomSize / 2));
  return P.burstSize * (P.bursts || Math.max(2, Math.round(1_000_000 / roomSize / 2 / P.burstSize)));
}

/**
 * One slice of a throughput phase on one server: `events` published, every delivery awaited.
 * @param {Pick<Session, 'server' | 'pool' | 'publisher'>} session @param {Room} room @param {number} roomSize @param {Mode} mode @param {number} events
 */
async function throughputSlice({ server, pool, publisher }, room, roomSize, mode, events) {
  await pool.all('reset', { sampleEvery: 1_000_000 });
  const cpu0 = await server.stats();
  const client0 = await pool.cpuMicros();
  const m0 = machineCpu();
  const t0 = process.hrtime.bigint();
  if (mode === 'isolated') {
    for (let i = 0; i < events; i++) await publisher.post(room);
  } else {
    for (let sent = 0; sent < events; sent += P.burstSize) await Promise.all(Array.from({ length: P.burstSize }, () => publisher.post(room)));
  }
  const expected = events * roomSize;
  const received = await pool.waitForDeliveries(expected, 120_000);
  const nanos = process.hrtime.bigint() - t0;
  const cpu1 = await server.stats();
  const client1 = await pool.cpuMicros();
  return { events, expected, received, nanos, cpuMicros: cpu1.cpuMicros - cpu0.cpuMicros, userMicros: cpu1.userMicros - cpu0.userMicros, clientMicros: client1 - client0, m0, m1: machineCpu() };
}

/**
 * Server CPU per delivery and deliveries/s for one room size and one publishing pattern, on
 * every server of the repeat. The phase is cut into slices that alternate between the servers
 * (gateway, bare, Socket.IO, gateway, ...), so that a change in the machine's background load
 * (this is a shared VM) lands on all of them alike instead of on whichever ran at that moment.
 */
async function throughput(/** @type {Session[]} */ sessions, /** @type {Room} */ room, /** @type {number} */ roomSize, /** @type {Mode} */ mode) {
  const events = phaseEvents(mode, roomSize);
  const slices = Math.max(1, Math.min(P.slices, Math.floor(events / (mode === 'isolated' ? 1 : P.burstSize))));
  const per = mode === 'isolated' ? Math.ceil(events / slices) : P.burstSize * Math.ceil(events / P.burstSize / slices);
  /** @type {Map<Session, Slice[]>} */
  const totals = new Map(sessions.map((session) => [session, []]));
  for (let slice = 0; slice < slices; slice++) {
    for (const session of sessions) totals.get(session)?.push(await throughputSlice(session, room, roomSize, mode, per));
  }
  return new Map(
    sessions.map((session) => {
      const parts = totals.get(session) ?? [];
      const sum = (/** @type {'events' | 'expected' | 'received' | 'nanos' | 'cpuMicros' | 'userMicros' | 'clientMicros'} */ key) => parts.reduce((s, part) => s + Number(part[key]), 0);
      const received = sum('received');
      const seconds = sum('nanos') / 1e9;
      const cpuMicros = sum('cpuMicros');
      const busy = parts.reduce((s, part) => s + busyCores(part.m0, part.m1) * Number(part.nanos), 0) / sum('nanos');
      return [
        session,
        /** @type {import('./lib/results.ts').ThroughputResult} */ ({
          events: sum('events'),
          slices,
          deliveries: received,
          lost: sum('expected') - received,
          seconds,
          cpuPerDeliveryUs: cpuMicros / received,
          userCpuPerDeliveryUs: sum('userMicros') / received,
          loadGenCpuPerDeliveryUs: sum('clientMicros') / received,
          deliveriesPerSecond: received / seconds,
          serverCores: cpuMicros / 1e6 / seconds,
          machineBusyCores: busy,
        }),
      ];
    }),
  );
}

/**
 * Publish-to-receive latency at a fixed rate.
 * @param {Server} server @param {LoadGenerators} pool @param {Publisher} publisher @param {Room} room @param {number} roomSize @param {number} perSecond
 * @returns {Promise<import('./lib/results.ts').LatencyResult>}
 */
async function latency(server, pool, publisher, room, roomSize, perSecond) {
  await pool.all('reset', { sampleEvery: 1 });
  const count = Math.max(2, Math.round(perSecond * P.latencySeconds));
  const cpu0 = await server.stats();
  const m0 = machineCpu();
  const start = performance.now();
  const posts = [];
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    posts.push(publisher.post(room));
  }
  await Promise.all(posts);
  const received = await pool.waitForDeliveries(count * roomSize, 30_000);
  const cpu1 = await server.stats();
  const m1 = machineCpu();
  const lists = await pool.all('latencies');
  const all = new Float64Array(lists.reduce((s, l) => s + l.latencies.length, 0));
  let offset = 0;
  for (const { latencies } of lists) {
    all.set(latencies, offset);
    offset += latencies.length;
  }
  all.sort();
  return {
    perSecond,
    roomSize,
    events: count,
    deliveries: received,
    lost: count * roomSize - received,
    p50: percentile(all, 50),
    p95: percentile(all, 95),
    p99: percentile(all, 99),
    max: all[all.length - 1],
    cpuPerDeliveryUs: (cpu1.cpuMicros - cpu0.cpuMicros) / received,
    serverLoopDelayMaxMs: cpu1.loopDelayMaxMs,
    machineBusyCores: busyCores(m0, m1),
  };
}

/**
 * One server under test with its own load-generator workers and publisher, warmed up.
 * @param {ServerKind} kind @param {number} repeat
 * @returns {Promise<Session>}
 */
async function openSession(kind, repeat) {
  const server = await startServer(kind, { secret });
  const pool = await startLoadGenerators(P.workers);
  const publisher = new Publisher(server.url, isGateway(kind) ? publisherToken : undefined);
  const opened = { kind, server, pool, publisher, result: { kind, repeat, loadBefore: loadAverage() } };
  try {
    if (takesTokens(kind)) {
      // Every worker signs every token up front (cheap), so any share of indices can connect untimed by signing.
      await pool.all('tokens', { secret, from: 0, count: P.memoryN, vendorBelow: P.smallRoom });
    }
    // Warm-up: JIT and heap for handshakes and broadcasts, then back to no sockets.
    const warm = Math.min(500, P.rateN);
    await connectBatch(pool, server, 0, warm, P.smallRoom);
    for (let i = 0; i < 20; i++) await publisher.post('broadcast');
    await pool.waitForDeliveries(20 * warm, 10_000);
    await pool.all('close');
    await sleep(quick ? 200 : 1500);
    return { ...opened, empty: await server.settledStats(quick ? 100 : 500) };
  } catch (error) {
    await closeSession(opened);
    throw error;
  }
}

async function closeSession(/** @type {Omit<Session, 'empty' | 'kind'>} */ { server, pool, publisher, result }) {
  publisher.close();
  await pool.all('close').catch(() => {});
  await pool.stop();
  await server.stop();
  result.loadAfter = loadAverage();
}

/** (2) connection setup rate: rateN sockets, as fast as the load generator opens them. */
async function measureConnect(/** @type {Session} */ { kind, server, pool, result }, /** @type {number} */ repeat) {
  const cpu0 = await server.stats();
  const client0 = await pool.cpuMicros();
  const m0 = machineCpu();
  const t0 = process.hrtime.bigint();
  const first = await connectBatch(pool, server, 0, P.rateN, P.smallRoom);
  const rateSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = await server.stats();
  const client1 = await pool.cpuMicros();
  const connect = {
    sockets: first.opened,
    failed: first.failed,
    seconds: rateSeconds,
    perSecond: first.opened / rateSeconds,
    serverCpuPerConnectionUs: (cpu1.cpuMicros - cpu0.cpuMicros) / first.opened,
    serverUserCpuPerConnectionUs: (cpu1.userMicros - cpu0.userMicros) / first.opened,
    // The clients share the two cores with the server: the rate depends on their cost as much as on its.
    loadGenCpuPerConnectionUs: (client1 - client0) / first.opened,
    machineBusyCores: busyCores(m0, machineCpu()),
  };
  result.connect = connect;
  log(`  ${kind}#${repeat} connect ${first.opened} in ${rateSeconds.toFixed(2)} s = ${connect.perSecond.toFixed(0)}/s, ${connect.serverCpuPerConnectionUs.toFixed(0)} µs server CPU each (user ${connect.serverUserCpuPerConnectionUs.toFixed(0)}), load generator ${connect.loadGenCpuPerConnectionUs.toFixed(0)} µs`);
}

/** (1) memory per idle connection at memoryN, then back to rateN sockets. */
async function measureMemory(/** @type {Session} */ { kind, server, pool, result, empty }, /** @type {number} */ repeat) {
  const second = await connectBatch(pool, server, P.rateN, P.memoryN - P.rateN, P.smallRoom);
  await sleep(quick ? 200 : 2000);
  const full = await server.settledStats(quick ? 100 : 500);
  const sockets = (result.connect?.sockets ?? 0) + second.opened;
  const memory = {
    sockets,
    rssEmpty: empty.rss,
    rssFull: full.rss,
    bytesPerConnection: (full.rss - empty.rss) / sockets,
    heapBytesPerConnection: (full.heapUsed - empty.heapUsed) / sockets,
    fds: full.fds,
  };
  result.memory = memory;
  log(`  ${kind}#${repeat} memory ${(memory.bytesPerConnection / 1024).toFixed(2)} KiB/conn RSS (heap ${(memory.heapBytesPerConnection / 1024).toFixed(2)} KiB) at ${sockets}`);
  // Each worker closes the share of the second batch it opened last.
  await Promise.all(pool.shares(P.rateN, P.memoryN - P.rateN).map(({ worker, count }) => worker.call('close', { count })));
  await sleep(quick ? 200 : 1500);
}

/** What one publish costs the server before any delivery: POSTs to a room nobody is in. */
async function measurePublish(/** @type {Session} */ { kind, server, publisher, result }, /** @type {number} */ repeat) {
  // Warmed right before it is measured, so that (3) measures the publish path optimized, not its
  // tier-up: the gateway's (Koa, JWT, validation, logging) takes ~2,000 requests to settle, and
  // the same warm-up made before the connection and memory phases did not hold through them.
  for (let i = 0; i < (quick ? 20 : 2000); i++) await publisher.post('user:nobody');
  const events = quick ? 20 : 1000;
  const c0 = await server.stats();
  for (let i = 0; i < events; i++) await publisher.post('user:nobody');
  const c1 = await server.stats();
  const publish = { events, cpuPerPublishUs: (c1.cpuMicros - c0.cpuMicros) / events, userCpuPerPublishUs: (c1.userMicros - c0.userMicros) / events };
  result.publish = publish;
  log(`  ${kind}#${repeat} publish to an empty room: ${publish.cpuPerPublishUs.toFixed(0)} µs server CPU each (user ${publish.userCpuPerPublishUs.toFixed(0)})`);
}

/**
 * One repeat: every server up side by side, each with its own load generator, the phases run
 * server after server (connection rate, memory, latency), and the throughput phases
 * alternating between them in slices. The order of the servers rotates from repeat to repeat.
 */
async function runRepeat(/** @type {number} */ repeat) {
  const order = servers.map((_, i) => /** @type {ServerKind} */ (servers[(i + repeat - 1) % servers.length]));
  /** @type {Session[]} */
  let sessions = [];
  /** @type {Session[]} */
  const closed = [];
  try {
    for (const kind of order) {
      log(`${LABELS[kind]}, run ${repeat}/${P.repeats}: start and warm up`);
      sessions.push(await openSession(kind, repeat));
    }
    for (const session of sessions) await measureConnect(session, repeat);
    // The connection-only baselines are done: the rest runs without them.
    for (const session of sessions.filter(({ kind }) => CONNECT_ONLY.has(kind) || P.connectOnly)) await closeSession(session);
    const all = sessions;
    sessions = sessions.filter(({ kind }) => !CONNECT_ONLY.has(kind) && !P.connectOnly);
    closed.push(...all.filter((session) => !sessions.includes(session)));
    for (const session of sessions) await measureMemory(session, repeat);
    for (const session of sessions) await measurePublish(session, repeat);

    // (3) CPU per delivery and deliveries/s, the servers alternating slice by slice.
    /** @type {Map<Session, Record<string, import('./lib/results.ts').PhaseResult>>} */
    const phases = new Map(sessions.map((session) => [session, (session.result.throughput = {})]));
    for (const [name, room, size] of /** @type {const} */ ([
      ['small', 'role:VENDOR', P.smallRoom],
      ['large', 'broadcast', P.rateN],
    ])) {
      for (const mode of /** @type {const} */ (['isolated', 'burst'])) {
        const measured = await throughput(sessions, room, size, mode);
        for (const session of sessions) {
          const { kind, result } = session;
          const r = /** @type {import('./lib/results.ts').ThroughputResult} */ (measured.get(session));
          // The fan-out alone: the same CPU minus what the publish requests cost (measured above).
          const fanOutCpuPerDeliveryUs = r.cpuPerDeliveryUs - (r.events * (result.publish?.cpuPerPublishUs ?? NaN)) / r.deliveries;
          const phase = phases.get(session);
          if (phase) phase[`${name}-${mode}`] = { room, roomSize: size, ...r, fanOutCpuPerDeliveryUs };
          log(`  ${kind}#${repeat} ${mode} to ${size}: ${r.cpuPerDeliveryUs.toFixed(2)} µs/delivery (user ${r.userCpuPerDeliveryUs.toFixed(2)}), ${r.deliveriesPerSecond.toFixed(0)}/s, lost ${r.lost}, machine ${r.machineBusyCores.toFixed(2)} cores`);
        }
      }
    }

    // (4) latency at sustainable rates.
    for (const session of sessions) {
      const { kind, server, pool, publisher, result } = session;
      /** @type {Partial<Record<'small' | 'large', import('./lib/results.ts').LatencyResult>>} */
      const latencies = {};
      for (const [name, room, size, rate] of /** @type {const} */ ([
        ['small', 'role:VENDOR', P.smallRoom, 20],
        ['large', 'broadcast', P.rateN, 2],
      ])) {
        const r = await latency(server, pool, publisher, room, size, rate);
        latencies[name] = r;
        log(`  ${kind}#${repeat} latency ${rate}/s to ${size}: p50 ${r.p50.toFixed(2)} p95 ${r.p95.toFixed(2)} p99 ${r.p99.toFixed(2)} ms (server event loop blocked ≤ ${r.serverLoopDelayMaxMs?.toFixed(0)} ms, machine ${r.machineBusyCores.toFixed(2)} cores busy)`);
      }
      if (latencies.small && latencies.large) result.latency = { small: latencies.small, large: latencies.large };
      const counts = await pool.all('count');
      result.unexpectedCloses = counts.reduce((s, c) => s + c.unexpectedCloses, 0);
    }

    // (5) the broadcast path with and without presence watchers (the gateway only).
    const gateway = sessions.find((session) => session.kind === 'gateway');
    if (gateway && P.presence) {
      // Each slice as long as a whole throughput phase (~0.5 M deliveries at full size): shorter ones measured GC.
      const options = { room: /** @type {Room} */ ('broadcast'), roomSize: P.rateN, events: phaseEvents('burst', P.rateN), slices: P.slices };
      gateway.result.presence = await presenceCost(gateway, options, throughputSlice, log);
    }
  } finally {
    for (const session of sessions) await closeSession(session);
  }
  // In the order of --servers, whatever order they ran in.
  return servers.flatMap((kind) => [...sessions, ...closed].find((s) => s.kind === kind)?.result ?? []);
}

async function main() {
  mkdirSync(flags.out, { recursive: true });
  /** @type {import('./lib/report.mjs').Machine} */
  const machine = {
    cpus: cpus().length,
    model: cpus()[0]?.model,
    memGiB: +(totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    loadAtStart: loadAverage(),
  };
  log(`machine: ${machine.cpus} × ${machine.model}, ${machine.memGiB} GiB, node ${machine.node}, load ${machine.loadAtStart}`);
  log('parameters:', JSON.stringify(P));
  if (servers.includes('gateway') || flags.hold || flags['hold-only']) useGatewayEntry(flags.gateway);
  if (flags['gateway-b']) useOtherGateway(flags['gateway-b']);
  machine.gateway = flags.gateway;
  const runs = [];
  if (!flags['hold-only']) {
    for (let repeat = 1; repeat <= P.repeats; repeat++) runs.push(...(await runRepeat(repeat)));
  }
  let hold;
  if (flags.hold || flags['hold-only']) {
    log(`hold: the most sockets one gateway holds for ${P.holdSeconds} s with default heartbeats`);
    hold = await holdTest({ secret, addresses, seconds: P.holdSeconds, sockets: P.holdSockets, workers: Math.max(P.workers, 4), log });
  }
  machine.loadAtEnd = loadAverage();
  const summary = runs.length ? summarize(runs, servers) : undefined;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const report = { machine, parameters: P, servers, summary, hold, runs };
  const json = JSON.stringify(report, null, 2);
  writeFileSync(join(flags.out, `bench-${stamp}.json`), json);
  writeFileSync(join(flags.out, 'latest.json'), json);
  if (summary) {
    const table = renderTable(summary, machine, hold) + renderPresence(runs);
    writeFileSync(join(flags.out, 'latest.md'), table);
    console.log(table);
    const svg = await renderChart(summary);
    writeFileSync(join(flags.out, 'chart.svg'), svg);
    if (flags.docs) copyFileSync(join(flags.out, 'chart.svg'), join(ROOT, 'docs', 'benchmarks.svg'));
  } else if (hold) console.log(renderTable(undefined, machine, hold));
  log(`wrote ${join(flags.out, 'latest.json')}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
