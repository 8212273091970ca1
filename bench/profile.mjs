#!/usr/bin/env node
// `npm run bench:profile -- <scenario>`: one operation of the benchmark, repeated in rounds that
// alternate between the servers, to see where each server's CPU goes for it.
//
//   handshake  authenticated connects (bare ws: unauthenticated), closed between rounds
//   isolated   isolated broadcasts to a room of --sockets sockets
//   publish    POSTs to a room nobody is in (the publish request alone)
//
// Prints the server CPU per operation (user and system) for every round. With --perf, the servers
// run with --perf-basic-prof (the gateway as a bundle whose function names are not minified),
// `perf record -a -g` samples the whole run (linux-perf must be installed), and it prints, from the
// samples taken inside each server's measured rounds, the share in the kernel and the JavaScript
// functions (with what they called) whose cost per operation differs most between the first two
// servers. See docs/benchmarks.md, "Where the CPU goes, sampled by perf".
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  LABELS,
  Publisher,
  ROOT,
  SourceAddresses,
  isGateway,
  median,
  serverKinds,
  sleep,
  startLoadGenerators,
  startServer,
  takesTokens,
  useGatewayEntry,
  useOtherGateway,
} from './lib/harness.mjs';
import { adminToken } from './lib/tokens.mjs';
import { largestDifferences, readRecording } from './lib/perf.mjs';

const SCENARIOS = ['handshake', 'isolated', 'publish'];
const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    servers: { type: 'string', default: 'gateway,bare' },
    gateway: { type: 'string' }, // bundle (what the image runs); with --perf, profile (the same, names kept)
    'gateway-b': { type: 'string' }, // another build of the gateway, as server gateway-b (e.g. --servers gateway,gateway-b)
    rounds: { type: 'string', default: '4' },
    sockets: { type: 'string', default: '5000' }, // handshake: per round; isolated: the room
    events: { type: 'string', default: '150' }, // isolated: broadcasts per round
    requests: { type: 'string', default: '3000' }, // publish: per round
    workers: { type: 'string', default: '3' },
    perf: { type: 'boolean', default: false },
    'perf-hz': { type: 'string', default: '1999' },
    out: { type: 'string', default: join(ROOT, 'bench', 'results') },
  },
});
const scenario = /** @type {keyof typeof scenarios} */ (positionals[0] ?? '');
if (!SCENARIOS.includes(scenario)) {
  console.error(`usage: profile.mjs <${SCENARIOS.join('|')}> [--servers gateway,bare] [--rounds N] [--perf]`);
  process.exit(2);
}
if (flags.perf && spawnSync('perf', ['--version']).status !== 0) {
  console.error('--perf needs perf (Debian: apt install linux-perf)');
  process.exit(2);
}
const servers = serverKinds(flags.servers);
const rounds = Number(flags.rounds);
const sockets = Number(flags.sockets);
const log = (/** @type {unknown[]} */ ...args) => console.error(`[profile ${new Date().toISOString().slice(11, 19)}]`, ...args);

const secret = randomBytes(32).toString('hex');
const publisherToken = adminToken(secret);
const addresses = new SourceAddresses();
if (servers.includes('gateway')) useGatewayEntry(flags.gateway ?? (flags.perf ? 'profile' : 'bundle'));
if (flags['gateway-b']) useOtherGateway(flags['gateway-b']);
if (flags.perf) process.env.BENCH_SERVER_NODE_ARGS = `${process.env.BENCH_SERVER_NODE_ARGS ?? ''} --perf-basic-prof`.trim();

/**
 * @typedef {{ kind: import('./lib/harness.mjs').ServerKind, server: import('./lib/harness.mjs').Server,
 *   pool: import('./lib/harness.mjs').LoadGenerators, publisher: Publisher, rows: Array<{ cpu: number, user: number }>,
 *   operations: number, windows: Array<[number, number]> }} Session
 * @typedef {{ unit: string, setUp(session: Session): Promise<void>, round(session: Session): Promise<number>,
 *   afterRound?(session: Session): Promise<void> }} Scenario
 */

async function connect(/** @type {Session} */ { kind, server, pool }, /** @type {number} */ count) {
  const { opened, errors } = await pool.connect(server, { count, sourceAddresses: addresses.take(8) });
  if (opened !== count) throw new Error(`${kind}: opened ${opened} of ${count} sockets: ${JSON.stringify(errors)}`);
}

/** Waits for every delivery; a lost one is an error, not a hang. */
async function delivered(/** @type {Session} */ { kind, pool }, /** @type {number} */ expected) {
  const received = await pool.waitForDeliveries(expected, 60_000);
  if (received < expected) throw new Error(`${kind}: ${expected - received} deliveries lost`);
}

const seconds = () => Number(process.hrtime.bigint()) / 1e9;

/**
 * Each scenario: what to set up once, and one measured round that returns its operation count.
 * @satisfies {Record<string, Scenario>}
 */
const scenarios = {
  handshake: {
    unit: 'handshake',
    async setUp(/** @type {Session} */ session) {
      if (takesTokens(session.kind)) await session.pool.all('tokens', { secret, from: 0, count: sockets, vendorBelow: 0 });
      await connect(session, Math.min(500, sockets)); // the sockets have tokens up to --sockets
      await session.pool.all('close');
    },
    async round(/** @type {Session} */ session) {
      await connect(session, sockets);
      return sockets;
    },
    // Closing is not part of the handshake: it happens after the round's CPU is read.
    async afterRound(/** @type {Session} */ session) {
      await session.pool.all('close');
      await sleep(1000);
    },
  },
  isolated: {
    unit: 'delivery',
    async setUp(/** @type {Session} */ session) {
      if (takesTokens(session.kind)) await session.pool.all('tokens', { secret, from: 0, count: sockets, vendorBelow: 0 });
      await connect(session, sockets);
      for (let i = 0; i < 2000; i++) await session.publisher.post('user:nobody');
      for (let i = 0; i < 50; i++) await session.publisher.post('broadcast');
      await delivered(session, 50 * sockets);
    },
    async round(/** @type {Session} */ session) {
      const before = await session.pool.received();
      const events = Number(flags.events);
      for (let i = 0; i < events; i++) await session.publisher.post('broadcast');
      await delivered(session, before + events * sockets);
      return events * sockets;
    },
  },
  publish: {
    unit: 'request',
    async setUp(/** @type {Session} */ session) {
      for (let i = 0; i < 2000; i++) await session.publisher.post('user:nobody');
    },
    async round(/** @type {Session} */ session) {
      const requests = Number(flags.requests);
      for (let i = 0; i < requests; i++) await session.publisher.post('user:nobody');
      return requests;
    },
  },
};

async function main() {
  /** @type {Scenario} */
  const plan = scenarios[scenario];
  /** @type {Session[]} */
  const sessions = [];
  /** @type {import('node:child_process').ChildProcess | undefined} */
  let recorder;
  try {
    for (const kind of servers) {
      const server = await startServer(kind, { secret });
      const pool = await startLoadGenerators(Number(flags.workers));
      const publisher = new Publisher(server.url, isGateway(kind) ? publisherToken : undefined);
      const session = { kind, server, pool, publisher, rows: [], operations: 0, windows: [] };
      sessions.push(session);
      log(`${LABELS[kind]}: set up and warm up`);
      await plan.setUp(session);
    }
    const recording = join(flags.out, `perf-${scenario}.data`);
    if (flags.perf) {
      mkdirSync(flags.out, { recursive: true });
      // Stamped with CLOCK_MONOTONIC, the clock of process.hrtime: samples are kept by round.
      recorder = spawn('perf', ['record', '-F', flags['perf-hz'], '-a', '-g', '-k', 'monotonic', '-o', recording], { stdio: ['ignore', 'ignore', 'pipe'] });
      let started = '';
      recorder.stderr?.on('data', (chunk) => (started += chunk));
      await sleep(1000);
      if (recorder.exitCode !== null) throw new Error(`perf record did not start (is linux-perf installed?): ${started}`);
    }
    for (let round = 0; round < rounds; round++) {
      const order = sessions.map((_, i) => /** @type {Session} */ (sessions[(i + round) % sessions.length]));
      for (const session of order) {
        const before = await session.server.stats();
        const start = seconds();
        const operations = await plan.round(session);
        session.windows.push([start, seconds()]);
        const after = await session.server.stats();
        const cpu = (after.cpuMicros - before.cpuMicros) / operations;
        const user = (after.userMicros - before.userMicros) / operations;
        session.rows.push({ cpu, user });
        session.operations += operations;
        log(`round ${round + 1} ${session.kind.padEnd(8)} ${cpu.toFixed(2)} µs of server CPU per ${plan.unit} (user ${user.toFixed(2)}, system ${(cpu - user).toFixed(2)})`);
        await plan.afterRound?.(session);
      }
    }
    if (recorder) {
      const stopping = recorder;
      stopping.kill('SIGINT');
      await new Promise((resolve) => stopping.once('exit', resolve));
      recorder = undefined;
    }
    console.log(`\n${scenario}: server CPU per ${plan.unit}, median of ${rounds} rounds (µs)`);
    for (const { kind, rows } of sessions) {
      const cpu = median(rows.map((r) => r.cpu));
      const user = median(rows.map((r) => r.user));
      console.log(`  ${LABELS[kind].padEnd(12)} ${cpu.toFixed(2)}  (user ${user.toFixed(2)}, system ${(cpu - user).toFixed(2)})`);
    }
    if (flags.perf) {
      // The measured rounds of each process, for reading the recording again (perf script --pid, -F time).
      writeFileSync(`${recording}.rounds.json`, JSON.stringify(sessions.map(({ kind, server, windows, operations }) => ({ kind, pid: server.pid, windows, operations }))));
      await reportRecording(recording, sessions, plan.unit);
    }
  } finally {
    // V8's symbol maps for perf grow with every compiled function; they are read by now.
    if (flags.perf) for (const { server } of sessions) rmSync(`/tmp/perf-${server.pid}.map`, { force: true });
    if (recorder) recorder.kill('SIGINT');
    for (const { server, pool, publisher } of sessions) {
      publisher.close();
      await pool.stop();
      await server.stop();
    }
  }
}

async function reportRecording(/** @type {string} */ recording, /** @type {Session[]} */ sessions, /** @type {string} */ unit) {
  const hz = Number(flags['perf-hz']);
  const pids = new Map(sessions.map((session) => [session.server.pid, session]));
  const folded = await readRecording(recording, new Map(sessions.map(({ server, windows }) => [server.pid, windows])));
  const usPerSample = 1e6 / hz;
  console.log(`\nperf (${recording}, ${hz} Hz): samples per ${unit} × ${usPerSample.toFixed(0)} µs`);
  for (const [pid, entry] of folded) {
    const session = pids.get(pid);
    if (!session) continue;
    const { kind, operations } = session;
    const perOp = (entry.samples / operations) * usPerSample;
    console.log(`  ${LABELS[kind].padEnd(12)} ${perOp.toFixed(2)} µs per ${unit}, ${((100 * entry.kernel) / entry.samples).toFixed(0)}% of it in the kernel`);
  }
  const [a, b] = sessions;
  const foldedA = a && folded.get(a.server.pid);
  const foldedB = b && folded.get(b.server.pid);
  if (!a || !b || !foldedA || !foldedB) return;
  const rows = largestDifferences(foldedA, foldedB, a.operations, b.operations);
  console.log(`\n  functions (with what they call) by difference, µs per ${unit}: ${LABELS[a.kind]} | ${LABELS[b.kind]} | difference`);
  for (const { name, perOpA, perOpB, difference } of rows) {
    const us = (/** @type {number} */ x) => (x * usPerSample).toFixed(3).padStart(8);
    console.log(`  ${us(perOpA)} ${us(perOpB)} ${us(difference)}  ${name}`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
