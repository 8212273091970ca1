/**
 * Smoke test of `npm run bench:tabs` in miniature (20 users × 5 tabs, one repeat): both modes run against the real
 * gateway, every delivery arrives, and the report comes out. The figures mean nothing at this size.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, it } from 'node:test';

const out = mkdtempSync(join(tmpdir(), 'bench-tabs-'));
after(() => rmSync(out, { recursive: true, force: true }));

it('runs both modes with tiny N: a socket per tab against a socket per browser, nothing lost', { timeout: 90_000 }, () => {
  const run = spawnSync(process.execPath, [fileURLToPath(new URL('./tabs.mjs', import.meta.url)), '--quick', '--out', out], {
    encoding: 'utf8',
    timeout: 80_000,
  });
  assert.equal(run.status, 0, `bench:tabs failed:\n${run.stderr}\n${run.stdout}`);
  assert.match(run.stdout, /\| sockets at the gateway \| 100 \| 20 \| 0\.20 \|/);
  const report = JSON.parse(readFileSync(join(out, 'tabs-latest.json'), 'utf8')) as {
    users: number;
    tabs: number;
    runs: Array<{ mode: string; sockets: number; roomEvents: number; roomDeliveries: number; broadcasts: number; broadcastDeliveries: number; handshakeCpuMs: number }>;
  };
  for (const run of report.runs) {
    const perUser = run.mode === 'shared' ? 1 : report.tabs;
    assert.equal(run.sockets, report.users * perUser, `${run.mode}: sockets`);
    assert.equal(run.roomDeliveries, run.roomEvents * perUser, `${run.mode}: every tab socket got its user's events`);
    assert.equal(run.broadcastDeliveries, run.broadcasts * run.sockets, `${run.mode}: every socket got every broadcast`);
    assert.ok(run.handshakeCpuMs > 0, `${run.mode}: the handshakes' CPU was measured`);
  }
});
