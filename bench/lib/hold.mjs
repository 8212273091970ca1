// (5) The most sockets one gateway process holds with default heartbeats for a while without a
// drop. The bound here is the open-files limit (20,000 per process): the target is that limit
// minus what the process already has open and a small margin for the HTTP publisher.
import { startLoadGenerators, startServer, sleep } from './harness.mjs';
import { readFileSync } from 'node:fs';

function fdLimit(/** @type {number} */ pid) {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  return Number(line?.split(/\s+/)[3]);
}

/**
 * @param {{ secret: string, addresses: import('./harness.mjs').SourceAddresses, seconds: number, sockets?: number | undefined,
 *   workers: number, log: (...args: unknown[]) => void, margin?: number }} options
 */
export async function holdTest({ secret, addresses, seconds, sockets, workers, log, margin = 20 }) {
  const server = await startServer('gateway', { secret });
  const pool = await startLoadGenerators(workers);
  try {
    const before = await server.settledStats();
    const limit = fdLimit(server.pid);
    const target = sockets ?? limit - before.fds - margin;
    await pool.all('tokens', { secret, from: 0, count: target, vendorBelow: 0 });
    const t0 = Date.now();
    const { opened, errors } = await pool.connect(server, { count: target, sourceAddresses: addresses.take(16) });
    log(`  hold: opened ${opened} of ${target} in ${((Date.now() - t0) / 1000).toFixed(1)} s (server had ${before.fds} fds open, limit ${limit})`);
    if (opened < target) log('  hold: failures', errors);
    /** @type {{ t: number, open: number, fds: number, rss: number, cpuMicros: number }[]} */
    const samples = [];
    const end = Date.now() + seconds * 1000;
    let minOpen = opened;
    while (Date.now() < end) {
      await sleep(Math.min(10_000, Math.max(0, end - Date.now())));
      const counts = await pool.all('count');
      const open = counts.reduce((s, c) => s + c.open, 0);
      const stats = await server.stats();
      minOpen = Math.min(minOpen, open);
      samples.push({ t: Math.round((Date.now() - t0) / 1000), open, fds: stats.fds, rss: stats.rss, cpuMicros: stats.cpuMicros });
      log(`  hold: t=${samples.at(-1)?.t}s open ${open}, server fds ${stats.fds}, rss ${(stats.rss / 2 ** 20).toFixed(0)} MiB`);
    }
    const counts = await pool.all('count');
    const drops = counts.reduce((s, c) => s + c.unexpectedCloses, 0);
    const closeCodes = counts.reduce((acc, c) => {
      for (const [code, n] of Object.entries(c.closeCodes)) acc[code] = (acc[code] ?? 0) + n;
      return acc;
    }, /** @type {Record<string, number>} */ ({}));
    const last = samples.at(-1) ?? (await server.stats());
    return { target, opened, held: minOpen, seconds, drops, closeCodes, fds: last.fds, fdLimit: limit, rss: last.rss, serverFdsBefore: before.fds, samples };
  } finally {
    await pool.all('close').catch(() => {});
    await pool.stop();
    await server.stop();
  }
}
