#!/usr/bin/env node
// `npm run bench`: the gateway against a bare `ws` server and Socket.IO 4, with one load
// generator (several worker processes, several loopback source addresses). Prints a table of
// absolute figures and ratios, writes JSON and an SVG chart under bench/results/.
// See docs/benchmarks.md for what each figure means and how it is measured.
import { mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { randomBytes, createSecretKey } from 'node:crypto';
import { parseArgs } from 'node:util';
import jwt from 'jsonwebtoken';
import {
  LABELS,
  Publisher,
  ROOT,
  SourceAddresses,
  busyCores,
  loadAverage,
  machineCpu,
  median,
  percentile,
  sleep,
  spread,
  startServer,
  startWorkers,
  useGatewayEntry,
} from './lib/harness.mjs';
import { renderChart, renderTable, summarize } from './lib/report.mjs';
import { holdTest } from './lib/hold.mjs';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    repeats: { type: 'string' },
    servers: { type: 'string', default: 'gateway,bare,sio' },
    gateway: { type: 'string', default: 'bundle' }, // bundle (what the image runs) or source (tsx)
    connections: { type: 'string' }, // memory test N
    rate: { type: 'string' }, // connection-rate N (also the large room)
    small: { type: 'string' }, // small room
    workers: { type: 'string' },
    events: { type: 'string' }, // isolated broadcasts per throughput phase
    'burst-size': { type: 'string' },
    bursts: { type: 'string' },
    'latency-seconds': { type: 'string' },
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
  latencySeconds: Number(flags['latency-seconds'] ?? (quick ? 0.5 : 8)),
  concurrency: quick ? 8 : 64,
  padding: 'x'.repeat(120), // a payments-sized event: ~260 bytes on the wire
  holdSeconds: Number(flags['hold-seconds'] ?? 300),
  holdSockets: flags['hold-sockets'] ? Number(flags['hold-sockets']) : undefined,
};
const servers = flags.servers.split(',').filter(Boolean);
const secret = randomBytes(32).toString('hex');
const adminToken = jwt.sign({ userId: 'bench_admin', email: 'admin@bench.test', role: 'ADMIN' }, createSecretKey(Buffer.from(secret)), {
  algorithm: 'HS256',
  expiresIn: 6 * 3600,
});
const addresses = new SourceAddresses();
const log = (...args) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...args);

async function connectBatch(pool, server, from, count, vendorBelow) {
  const source = addresses.take(8);
  const results = await Promise.all(
    pool.shares(from, count).map(({ worker, from: f, count: c }) =>
      c > 0
        ? worker.call('connect', { kind: server.kind, url: server.url.replace('http', 'ws'), from: f, count: c, sourceAddresses: source, concurrency: P.concurrency, vendorBelow })
        : { opened: 0, failed: 0, errors: {} },
    ),
  );
  const opened = results.reduce((s, r) => s + r.opened, 0);
  const failed = results.reduce((s, r) => s + r.failed, 0);
  if (failed > 0) log(`  ${server.kind}: ${failed} connections failed`, results.map((r) => r.errors));
  return { opened, failed };
}

async function waitForDeliveries(pool, expected, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let received = 0;
  while (Date.now() < deadline) {
    received = await pool.received();
    if (received >= expected) return received;
    await sleep(10);
  }
  return received;
}

/** Server CPU per delivery and deliveries/s for one room size and one publishing pattern. */
async function throughput(server, pool, publisher, room, roomSize, mode) {
  const events = mode === 'isolated' ? P.events || Math.max(20, Math.round(1_000_000 / roomSize / 2)) : P.burstSize * (P.bursts || Math.max(2, Math.round(1_000_000 / roomSize / 2 / P.burstSize)));
  await pool.all('reset', { sampleEvery: 1_000_000 });
  const cpu0 = await server.stats();
  const m0 = machineCpu();
  const t0 = process.hrtime.bigint();
  if (mode === 'isolated') {
    for (let i = 0; i < events; i++) await publisher.post(room);
  } else {
    for (let sent = 0; sent < events; sent += P.burstSize) await Promise.all(Array.from({ length: P.burstSize }, () => publisher.post(room)));
  }
  const expected = events * roomSize;
  const received = await waitForDeliveries(pool, expected, 120_000);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = await server.stats();
  const m1 = machineCpu();
  return {
    events,
    deliveries: received,
    lost: expected - received,
    seconds,
    cpuPerDeliveryUs: (cpu1.cpuMicros - cpu0.cpuMicros) / received,
    userCpuPerDeliveryUs: (cpu1.userMicros - cpu0.userMicros) / received,
    deliveriesPerSecond: received / seconds,
    serverCores: (cpu1.cpuMicros - cpu0.cpuMicros) / 1e6 / seconds,
    machineBusyCores: busyCores(m0, m1),
  };
}

/** Publish-to-receive latency at a fixed rate. */
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
  const received = await waitForDeliveries(pool, count * roomSize, 30_000);
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

async function runOnce(kind, repeat) {
  const server = await startServer(kind, { secret });
  const pool = await startWorkers(P.workers);
  const publisher = new Publisher(server.url, kind === 'gateway' ? adminToken : undefined, P.padding);
  const result = { kind, repeat, loadBefore: loadAverage() };
  try {
    if (kind === 'gateway') {
      // Every worker signs every token up front (cheap), so any share of indices can connect untimed by signing.
      await pool.all('tokens', { secret, from: 0, count: P.memoryN, vendorBelow: P.smallRoom });
    }
    // Warm-up: JIT and heap for handshakes and broadcasts, then back to no sockets.
    const warm = Math.min(500, P.rateN);
    await connectBatch(pool, server, 0, warm, P.smallRoom);
    for (let i = 0; i < 20; i++) await publisher.post('broadcast');
    await waitForDeliveries(pool, 20 * warm, 10_000);
    await pool.all('close');
    await sleep(quick ? 200 : 1500);
    const empty = await server.settledStats(quick ? 100 : 500);

    // (2) connection setup rate: rateN sockets, as fast as the load generator opens them.
    let cpu0 = await server.stats();
    const m0 = machineCpu();
    let t0 = process.hrtime.bigint();
    const first = await connectBatch(pool, server, 0, P.rateN, P.smallRoom);
    const rateSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    let cpu1 = await server.stats();
    result.connect = {
      sockets: first.opened,
      failed: first.failed,
      seconds: rateSeconds,
      perSecond: first.opened / rateSeconds,
      serverCpuPerConnectionUs: (cpu1.cpuMicros - cpu0.cpuMicros) / first.opened,
      serverUserCpuPerConnectionUs: (cpu1.userMicros - cpu0.userMicros) / first.opened,
      machineBusyCores: busyCores(m0, machineCpu()),
    };
    log(`  ${kind}#${repeat} connect ${first.opened} in ${rateSeconds.toFixed(2)} s = ${result.connect.perSecond.toFixed(0)}/s, ${result.connect.serverCpuPerConnectionUs.toFixed(0)} µs server CPU each (user ${result.connect.serverUserCpuPerConnectionUs.toFixed(0)})`);

    // (1) memory per idle connection at memoryN.
    const second = await connectBatch(pool, server, P.rateN, P.memoryN - P.rateN, P.smallRoom);
    await sleep(quick ? 200 : 2000);
    const full = await server.settledStats(quick ? 100 : 500);
    const sockets = first.opened + second.opened;
    result.memory = {
      sockets,
      rssEmpty: empty.rss,
      rssFull: full.rss,
      bytesPerConnection: (full.rss - empty.rss) / sockets,
      heapBytesPerConnection: (full.heapUsed - empty.heapUsed) / sockets,
      fds: full.fds,
    };
    log(`  ${kind}#${repeat} memory ${(result.memory.bytesPerConnection / 1024).toFixed(2)} KiB/conn RSS (heap ${(result.memory.heapBytesPerConnection / 1024).toFixed(2)} KiB) at ${sockets}`);
    // Back to rateN sockets: each worker closes the share of the second batch it opened last.
    await Promise.all(pool.shares(P.rateN, P.memoryN - P.rateN).map(({ worker, count }) => worker.call('close', { count })));
    await sleep(quick ? 200 : 1500);

    // (3) CPU per delivery and deliveries/s; (4) latency at sustainable rates.
    const rooms = [
      ['small', 'role:VENDOR', P.smallRoom],
      ['large', 'broadcast', P.rateN],
    ];
    // The publish path warmed right before it is measured, so that (3) measures it optimized, not
    // its tier-up: the gateway's (Koa, JWT, validation, logging) takes ~2,000 requests to settle,
    // and the same warm-up made before the connection and memory phases did not hold through them.
    for (let i = 0; i < (quick ? 20 : 2000); i++) await publisher.post('user:nobody');
    // What one publish costs the server before any delivery: POSTs to a room nobody is in.
    {
      const events = quick ? 20 : 1000;
      const c0 = await server.stats();
      for (let i = 0; i < events; i++) await publisher.post('user:nobody');
      const c1 = await server.stats();
      result.publish = { events, cpuPerPublishUs: (c1.cpuMicros - c0.cpuMicros) / events, userCpuPerPublishUs: (c1.userMicros - c0.userMicros) / events };
      log(`  ${kind}#${repeat} publish to an empty room: ${result.publish.cpuPerPublishUs.toFixed(0)} µs server CPU each (user ${result.publish.userCpuPerPublishUs.toFixed(0)})`);
    }
    result.throughput = {};
    for (const [name, room, size] of rooms) {
      for (const mode of ['isolated', 'burst']) {
        const r = await throughput(server, pool, publisher, room, size, mode);
        // The fan-out alone: the same CPU minus what the publish requests cost (measured above).
        r.fanOutCpuPerDeliveryUs = r.cpuPerDeliveryUs - (r.events * result.publish.cpuPerPublishUs) / r.deliveries;
        result.throughput[`${name}-${mode}`] = { room, roomSize: size, ...r };
        log(`  ${kind}#${repeat} ${mode} to ${size}: ${r.cpuPerDeliveryUs.toFixed(2)} µs/delivery (user ${r.userCpuPerDeliveryUs.toFixed(2)}), ${r.deliveriesPerSecond.toFixed(0)}/s, lost ${r.lost}, machine ${r.machineBusyCores.toFixed(2)} cores`);
      }
    }
    result.latency = {};
    for (const [name, room, size, rate] of [
      ['small', 'role:VENDOR', P.smallRoom, 20],
      ['large', 'broadcast', P.rateN, 2],
    ]) {
      const r = await latency(server, pool, publisher, room, size, rate);
      result.latency[name] = r;
      log(`  ${kind}#${repeat} latency ${rate}/s to ${size}: p50 ${r.p50.toFixed(2)} p95 ${r.p95.toFixed(2)} p99 ${r.p99.toFixed(2)} ms (server event loop blocked ≤ ${r.serverLoopDelayMaxMs?.toFixed(0)} ms, machine ${r.machineBusyCores.toFixed(2)} cores busy)`);
    }
    const counts = await pool.all('count');
    result.unexpectedCloses = counts.reduce((s, c) => s + c.unexpectedCloses, 0);
  } finally {
    publisher.close();
    await pool.all('close').catch(() => {});
    await pool.stop();
    await server.stop();
  }
  result.loadAfter = loadAverage();
  return result;
}

async function main() {
  mkdirSync(flags.out, { recursive: true });
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
  machine.gateway = flags.gateway;
  const runs = [];
  if (!flags['hold-only']) {
    for (let repeat = 1; repeat <= P.repeats; repeat++) {
      // Interleave servers in each repeat so background load hits all of them alike.
      for (const kind of servers) {
        log(`${LABELS[kind]}, run ${repeat}/${P.repeats}`);
        runs.push(await runOnce(kind, repeat));
      }
    }
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
    const table = renderTable(summary, machine, hold);
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
