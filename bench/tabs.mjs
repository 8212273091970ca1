// One socket per browser (the library's `withSharedConnection()`): what the gateway saves when users keep several
// tabs open. N simulated users with T tabs each, against the real gateway as its image runs it (the bundle):
//
//   per tab  every tab holds its own socket: N × T sockets, each event of a user's room written T times
//   shared   the browser holds one socket (the owner tab's); the other tabs get events from it inside the
//            browser (BroadcastChannel), which the gateway never sees: N sockets
//
// Per mode, on a fresh gateway: RSS and JS heap with the users connected (after a forced GC) minus before any; the
// gateway's CPU for the handshakes; its CPU to deliver one event to every user's own room (`user:<id>`, which every
// tab of the user is in), `--rounds` times, and `--broadcasts` events to `broadcast` (every socket), counting until
// every socket got every event (and, as "fan-out", that CPU less what the same POSTs to a room nobody is in cost);
// and the delivery latency the load generator saw. Modes alternate, `--repeats` times; the table shows medians.
//
//   npm run bench:tabs [-- --users 1000 --tabs 5 --repeats 3 --rounds 5 --broadcasts 20 --workers 2 --out DIR]
//   npm run bench:tabs -- --quick      (20 users, 1 repeat: checks that it works; the figures mean nothing)
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  loadAverage,
  median,
  percentile,
  Publisher,
  ROOT,
  sleep,
  SourceAddresses,
  startLoadGenerators,
  startServer,
  useGatewayEntry,
} from './lib/harness.mjs';
import { adminToken } from './lib/tokens.mjs';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '1000' },
    tabs: { type: 'string', default: '5' },
    repeats: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '5' },
    broadcasts: { type: 'string', default: '20' },
    workers: { type: 'string', default: '2' },
    out: { type: 'string', default: join(ROOT, 'bench', 'results') },
    quick: { type: 'boolean', default: false },
  },
});
const quick = values.quick;
const users = quick ? 20 : Number(values.users);
const tabs = Number(values.tabs);
const repeats = quick ? 1 : Number(values.repeats);
const rounds = quick ? 2 : Number(values.rounds);
const broadcasts = quick ? 3 : Number(values.broadcasts);
const workers = Number(values.workers);
for (const [name, value] of Object.entries({ users, tabs, repeats, rounds, broadcasts, workers })) {
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${value}`);
}

/** @typedef {'per tab' | 'shared'} Mode */
/** @type {Record<Mode, number>} */
const MODES = { 'per tab': tabs, shared: 1 };
const log = (/** @type {unknown[]} */ ...args) => console.log(...args);
const addresses = new SourceAddresses();

/**
 * Publishes to every room of `rooms`, `concurrency` requests in flight.
 * @param {Publisher} publisher @param {readonly string[]} rooms
 */
async function publishAll(publisher, rooms, concurrency = 32) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, rooms.length) }, async () => {
      while (next < rooms.length) await publisher.post(/** @type {import('@payments-system/protocol').Room} */ (rooms[next++]));
    }),
  );
}

async function runMode(/** @type {Mode} */ mode) {
  const socketsPerUser = MODES[mode];
  const sockets = users * socketsPerUser;
  const secret = randomBytes(32).toString('hex');
  const server = await startServer('gateway', { secret });
  const pool = await startLoadGenerators(workers);
  const publisher = new Publisher(server.url, adminToken(secret));
  try {
    await pool.all('tokens', { secret, from: 0, count: users, vendorBelow: 0 });
    // Steady state, not JIT warm-up: the publish path gets its unmeasured requests first (a room nobody is in).
    await publishAll(publisher, Array.from({ length: quick ? 50 : 2000 }, () => 'role:VENDOR'));
    const empty = await server.settledStats();

    // Each tab of user i opens a socket as user i: T rounds of the same N users, or one.
    for (let tab = 0; tab < socketsPerUser; tab++) {
      const { opened, failed, errors } = await pool.connect(server, { from: 0, count: users, sourceAddresses: addresses.take(8) });
      if (failed > 0 || opened !== users) throw new Error(`${mode}: ${failed} sockets failed to open: ${JSON.stringify(errors)}`);
    }
    const connected = await server.stats();
    await sleep(1000);
    const held = await server.settledStats();

    // One event to every user's own room, `rounds` times: each tab of the user receives it.
    await pool.all('reset', { sampleEvery: 1 });
    const beforeRooms = await server.stats();
    const userRooms = Array.from({ length: rounds * users }, (_, i) => `user:u${i % users}`);
    await publishAll(publisher, userRooms);
    const roomDeliveries = await pool.waitForDeliveries(userRooms.length * socketsPerUser, 60_000);
    const afterRooms = await server.stats();
    const roomLatencies = (await pool.all('latencies')).flatMap((r) => r.latencies).sort((a, b) => a - b);

    // Broadcasts, one after another: every socket receives each.
    await pool.all('reset', { sampleEvery: 1 });
    const beforeBroadcasts = await server.stats();
    for (let i = 0; i < broadcasts; i++) await publisher.post('broadcast');
    const broadcastDeliveries = await pool.waitForDeliveries(broadcasts * sockets, 60_000);
    const afterBroadcasts = await server.stats();
    const broadcastLatencies = (await pool.all('latencies')).flatMap((r) => r.latencies).sort((a, b) => a - b);

    // The same number of POSTs to a room nobody is in: what publishing costs before any delivery.
    const beforeEmpty = await server.stats();
    await publishAll(publisher, userRooms.map(() => 'role:VENDOR'));
    const afterEmpty = await server.stats();
    const publishCpuMs = (afterEmpty.cpuMicros - beforeEmpty.cpuMicros) / 1000;

    const lost = userRooms.length * socketsPerUser - roomDeliveries + (broadcasts * sockets - broadcastDeliveries);
    if (lost !== 0) throw new Error(`${mode}: ${lost} deliveries missing`);
    return {
      mode,
      sockets,
      rssMiB: (held.rss - empty.rss) / 2 ** 20,
      heapMiB: (held.heapUsed - empty.heapUsed) / 2 ** 20,
      handshakeCpuMs: (connected.cpuMicros - empty.cpuMicros) / 1000,
      roomEvents: userRooms.length,
      roomDeliveries,
      roomCpuMs: (afterRooms.cpuMicros - beforeRooms.cpuMicros) / 1000,
      roomFanOutCpuMs: (afterRooms.cpuMicros - beforeRooms.cpuMicros) / 1000 - publishCpuMs,
      roomP99Ms: percentile(roomLatencies, 99),
      broadcasts,
      broadcastDeliveries,
      broadcastCpuMs: (afterBroadcasts.cpuMicros - beforeBroadcasts.cpuMicros) / 1000,
      broadcastP99Ms: percentile(broadcastLatencies, 99),
      loadAverage: loadAverage(),
    };
  } finally {
    publisher.close();
    await pool.all('close').catch(() => {});
    await pool.stop();
    await server.stop();
  }
}

useGatewayEntry('bundle');
const started = new Date();
log(`bench:tabs: ${users} users × ${tabs} tabs, ${repeats} repeat(s), ${rounds} event(s) per user room, ${broadcasts} broadcast(s)`);
/** @type {Array<{ repeat: number } & Awaited<ReturnType<typeof runMode>>>} */
const runs = [];
for (let repeat = 1; repeat <= repeats; repeat++) {
  for (const mode of /** @type {Mode[]} */ (Object.keys(MODES))) {
    const run = await runMode(mode);
    runs.push({ repeat, ...run });
    log(
      `  ${repeat}/${repeats} ${mode.padEnd(7)} ${String(run.sockets).padStart(6)} sockets: RSS +${run.rssMiB.toFixed(1)} MiB, ` +
        `handshakes ${run.handshakeCpuMs.toFixed(0)} ms CPU, user rooms ${run.roomCpuMs.toFixed(0)} ms CPU (p99 ${run.roomP99Ms.toFixed(1)} ms), ` +
        `broadcasts ${run.broadcastCpuMs.toFixed(0)} ms CPU (p99 ${run.broadcastP99Ms.toFixed(1)} ms), load ${run.loadAverage}`,
    );
  }
}

/**
 * @typedef {'sockets' | 'rssMiB' | 'heapMiB' | 'handshakeCpuMs' | 'roomCpuMs' | 'roomFanOutCpuMs' | 'roomDeliveries' | 'roomP99Ms' | 'broadcastCpuMs' | 'broadcastP99Ms'} FigureKey
 * @type {Array<[string, FigureKey, (v: number) => string]>}
 */
const FIGURES = [
  ['sockets at the gateway', 'sockets', (v) => v.toFixed(0)],
  ['RSS with the users connected, MiB', 'rssMiB', (v) => v.toFixed(1)],
  ['JS heap with the users connected, MiB', 'heapMiB', (v) => v.toFixed(1)],
  ['CPU for the handshakes, ms', 'handshakeCpuMs', (v) => v.toFixed(0)],
  [`CPU to deliver ${rounds} event(s) to each user's room, ms`, 'roomCpuMs', (v) => v.toFixed(0)],
  ['  of which fan-out (less the same POSTs to an empty room), ms', 'roomFanOutCpuMs', (v) => v.toFixed(0)],
  ['  frames delivered', 'roomDeliveries', (v) => v.toFixed(0)],
  ['  latency p99, ms', 'roomP99Ms', (v) => v.toFixed(1)],
  [`CPU to deliver ${broadcasts} broadcast(s), ms`, 'broadcastCpuMs', (v) => v.toFixed(0)],
  ['  latency p99, ms', 'broadcastP99Ms', (v) => v.toFixed(1)],
];
const medians = Object.fromEntries(
  Object.keys(MODES).map((mode) => [mode, Object.fromEntries(FIGURES.map(([, key]) => [key, median(runs.filter((r) => r.mode === mode).map((r) => r[key]))]))]),
);
const lines = [
  `| ${users} users × ${tabs} tabs (median of ${repeats}) | per tab | shared | shared ÷ per tab |`,
  '|---|---|---|---|',
  ...FIGURES.map(([label, key, format]) => {
    const [a, b] = [medians['per tab'][key], medians.shared[key]];
    return `| ${label} | ${format(a)} | ${format(b)} | ${a > 0 ? (b / a).toFixed(2) : '–'} |`;
  }),
];
log(`\n${lines.join('\n')}`);
mkdirSync(values.out, { recursive: true });
const report = { started: started.toISOString(), users, tabs, repeats, rounds, broadcasts, workers, medians, runs };
writeFileSync(join(values.out, 'tabs-latest.json'), `${JSON.stringify(report, null, 2)}\n`);
log(`\nwrote ${join(values.out, 'tabs-latest.json')}`);
