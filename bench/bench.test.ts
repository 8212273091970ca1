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
    runs: Array<{ kind: string; connect: { failed: number }; throughput: Record<string, { lost: number }> }>;
  };
  for (const kind of ['gateway', 'bare', 'sio']) {
    const figures = report.summary.figures[kind]!;
    assert.ok(figures['connPerSec']!.median > 0, `${kind} opened sockets`);
    assert.ok(figures['connClientCpuUs']!.median > 0, `${kind}: the load generator's CPU per connection was measured`);
    assert.ok(figures['cpu-small-isolated']!.median > 0, `${kind} delivered`);
    assert.ok(Number.isFinite(figures['lat-large-p99']!.median), `${kind} measured latency`);
  }
  for (const run of report.runs) {
    assert.equal(run.connect.failed, 0, `${run.kind}: every socket opened`);
    for (const [phase, r] of Object.entries(run.throughput)) assert.equal(r.lost, 0, `${run.kind} ${phase}: nothing lost`);
  }
  assert.match(readFileSync(join(out, 'chart.svg'), 'utf8'), /^<svg/);
});
