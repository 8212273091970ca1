/**
 * Smoke test of the benchmark harness (`npm run bench` in miniature): every server under test
 * starts, the load generator connects, publishes and measures, and the report, JSON and chart
 * come out. Tiny N, so the figures mean nothing; it checks that the harness works.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, it } from 'node:test';
import { foldSamples, largestDifferences } from './lib/perf.mjs';

const out = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
after(() => rmSync(out, { recursive: true, force: true }));

it('runs the whole benchmark with tiny N and writes the table, JSON and chart', { timeout: 120_000 }, () => {
  const run = spawnSync(process.execPath, [fileURLToPath(new URL('./run.mjs', import.meta.url)), '--quick', '--out', out], {
    encoding: 'utf8',
    timeout: 110_000,
  });
  assert.equal(run.status, 0, `bench failed:\n${run.stderr}\n${run.stdout}`);
  assert.match(run.stdout, /gateway ÷ bare ws/);
  const report = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as {
    summary: { figures: Record<string, Record<string, { median: number }>>; targets: unknown[] };
    runs: Array<{
      kind: string;
      connect: { failed: number };
      throughput?: Record<string, { lost: number }>;
      presence?: { watches: number; lost: number; cpuPerDeliveryUs: { with: number; without: number } };
    }>;
  };
  const connectRate = report.summary.figures['bare-jwt']!['connPerSec']!;
  assert.ok(connectRate.median > 0, 'bare ws + JWT (the connection-rate baseline) opened sockets');
  assert.match(run.stdout, /\| connection setup rate \| bare ws \+ JWT \| [0-9.]+ \| ≥ 0\.95 \|/, 'the re-based target is reported');
  for (const kind of ['gateway', 'bare', 'sio']) {
    const figures = report.summary.figures[kind]!;
    assert.ok(figures['connPerSec']!.median > 0, `${kind} opened sockets`);
    assert.ok(figures['connClientCpuUs']!.median > 0, `${kind}: the load generator's CPU per connection was measured`);
    assert.ok(figures['cpu-small-isolated']!.median > 0, `${kind} delivered`);
    assert.ok(Number.isFinite(figures['lat-large-p99']!.median), `${kind} measured latency`);
  }
  const presence = report.runs.find((run) => run.kind === 'gateway')?.presence;
  assert.ok(presence && presence.watches > 0 && presence.lost === 0, 'phase (5): deliveries with and without presence watchers');
  assert.ok(presence.cpuPerDeliveryUs.with > 0 && presence.cpuPerDeliveryUs.without > 0);
  assert.match(run.stdout, /Presence watchers and the broadcast path/);
  for (const run of report.runs) {
    assert.equal(run.connect.failed, 0, `${run.kind}: every socket opened`);
    for (const [phase, r] of Object.entries(run.throughput ?? {})) assert.equal(r.lost, 0, `${run.kind} ${phase}: nothing lost`);
  }
  assert.match(readFileSync(join(out, 'chart.svg'), 'utf8'), /^<svg/);
});

it('kills a gateway under traffic and checks every client’s recovery (bench:recovery with tiny N)', { timeout: 90_000 }, () => {
  const run = spawnSync(process.execPath, [fileURLToPath(new URL('./recovery.mjs', import.meta.url)), '--quick', '--out', out], {
    encoding: 'utf8',
    timeout: 85_000,
  });
  assert.equal(run.status, 0, `bench:recovery failed:\n${run.stderr}\n${run.stdout}`);
  const { result } = JSON.parse(readFileSync(join(out, 'recovery-latest.json'), 'utf8')) as {
    result: { clients: number; outcomes: Record<string, number>; lost: number; duplicated: number; outOfOrder: number; expectedDeliveries: number; delivered: number; liveMs: { max: number } };
  };
  assert.deepEqual(result.outcomes, { resumed: result.clients }, 'every client resumed on the surviving gateway');
  assert.ok(result.expectedDeliveries > result.clients, `the clients had events to miss (${result.expectedDeliveries})`);
  assert.deepEqual([result.lost, result.duplicated, result.outOfOrder], [0, 0, 0], 'nothing lost, duplicated or out of order');
  assert.equal(result.delivered, result.expectedDeliveries);
  assert.ok(Number.isFinite(result.liveMs.max), 'time until live measured');
  assert.match(run.stdout, /Targets: 100 % resumed \(met\)/);
  assert.match(readFileSync(join(out, 'recovery-chart.svg'), 'utf8'), /^<svg/);
});

it('profiles one operation: the publish request on the gateway and bare ws, CPU per request in each round', { timeout: 60_000 }, () => {
  const run = spawnSync(
    process.execPath,
    [fileURLToPath(new URL('./profile.mjs', import.meta.url)), 'publish', '--rounds', '2', '--requests', '50', '--workers', '1', '--out', out],
    { encoding: 'utf8', timeout: 55_000 },
  );
  assert.equal(run.status, 0, `profile failed:\n${run.stderr}\n${run.stdout}`);
  assert.match(run.stdout, /publish: server CPU per request, median of 2 rounds/);
  for (const label of ['gateway', 'bare ws']) {
    const line = new RegExp(`^  ${label} +([0-9.]+)  \\(user ([0-9.]+), system (-?[0-9.]+)\\)$`, 'm').exec(run.stdout);
    assert.ok(line, `${label} has a line:\n${run.stdout}`);
    assert.ok(Number(line[1]) > 0 && Number(line[2]) > 0, `${label}: CPU per request measured (${line[0]})`);
  }
});

it('folds perf call graphs per process and round: the share in the kernel, and each sample under its innermost JavaScript function', async () => {
  const script = [
    '  101/101 10.500000: ',
    '\tffffffff81a00000 tcp_sendmsg',
    '\tffffffff81000001 do_syscall_64',
    '\t7f0000000001 JS:*writeOrBuffer node:internal/streams/writable:548:23',
    '\t7f0000000002 JS:*deliver file:///srv/dist/gateway/main.mjs:180:31948',
    '',
    '  101/101 10.600000: ',
    '\t7f0000000003 Builtins_LoadIC_Megamorphic',
    '\t7f0000000002 JS:^deliver file:///srv/dist/gateway/main.mjs:180:31948',
    '',
    '  101/107 10.700000: ',
    '\t7f0000000006 v8::internal::ScavengerCollector::CollectGarbage',
    '',
    '  101/101 12.000000: ',
    '\t7f0000000002 JS:*deliver file:///srv/dist/gateway/main.mjs:180:31948',
    '',
    '  102/102 20.100000: ',
    '\t7f0000000004 llhttp_execute',
    '',
    '  102/103 20.200000: ',
    '\t7f0000000007 v8::internal::compiler::PipelineImpl::Run',
    '',
    '  102/102 20.300000: ',
    '\t7f0000000005 JS:*broadcast file:///srv/bench/servers/bare-ws.mjs:25:19',
    '',
    '  999/999 10.500000: ',
    '\t7f0000000004 malloc',
    '',
  ];
  const windows = new Map<number, Array<[number, number]>>([
    [101, [[10, 11]]],
    [102, [[20, 21]]],
  ]);
  const folded = await foldSamples(script, windows);
  assert.deepEqual([...folded.keys()], [101, 102], 'other processes are left out');
  const gateway = folded.get(101)!;
  const bare = folded.get(102)!;
  assert.equal(gateway.samples, 3, 'the sample at 12.0 s is outside the round');
  assert.equal(gateway.kernel, 1);
  assert.deepEqual(Object.fromEntries(gateway.byFunction), {
    'writeOrBuffer node:internal/streams/writable:548:23 [kernel]': 1,
    'deliver main.mjs:180:31948': 1,
    '(garbage collection)': 1,
  });
  assert.deepEqual(Object.fromEntries(bare.byFunction), {
    '(main thread, outside JavaScript)': 1,
    '(other threads: compiler, thread pool)': 1,
    'broadcast bare-ws.mjs:25:19': 1,
  });
  // Per operation, the gateway having done 1 and bare ws 2, largest difference first.
  assert.deepEqual(
    largestDifferences(gateway, bare, 1, 2, 4).map(({ name, difference }) => [name, difference]),
    [
      ['writeOrBuffer node:internal/streams/writable:548:23 [kernel]', 1],
      ['deliver main.mjs:180:31948', 1],
      ['(garbage collection)', 1],
      ['(main thread, outside JavaScript)', -0.5],
    ],
  );
});
