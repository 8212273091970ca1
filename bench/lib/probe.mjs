// Preloaded into every server under test (`node --expose-gc --import ./bench/lib/probe.mjs ...`):
// a tiny control channel over the IPC pipe the orchestrator opens. The server's own code is
// unchanged; the probe reports the process's own CPU time (process.cpuUsage), RSS and open
// files, and forces a full GC when asked (only with --expose-gc).
import { readdirSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

// Event-loop delay since the previous `stats` (10 ms resolution): how long the server was blocked.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

const send = process.send?.bind(process);
if (send) {
  process.channel?.unref();
  process.on('message', (/** @type {unknown} */ message) => {
    // The server's own code may use the channel too: only the probe's requests are answered.
    if (!message || typeof message !== 'object' || !('probe' in message)) return;
    const { probe, seq } = /** @type {import('./ipc.ts').ProbeRequest} */ (message);
    if (probe === 'gc') {
      if (typeof globalThis.gc === 'function') {
        globalThis.gc();
        globalThis.gc();
      }
      send(/** @type {import('./ipc.ts').GcDone} */ ({ probe: 'gc', seq, gc: typeof globalThis.gc === 'function' }));
      return;
    }
    if (probe === 'stats') {
      const cpu = process.cpuUsage();
      const mem = process.memoryUsage();
      let fds = -1;
      try {
        fds = readdirSync('/proc/self/fd').length;
      } catch {}
      const loopDelayMaxMs = loopDelay.max / 1e6;
      const loopDelayP99Ms = loopDelay.percentile(99) / 1e6;
      loopDelay.reset();
      /** @type {import('./ipc.ts').ServerStats} */
      const stats = { probe: 'stats', seq, loopDelayMaxMs, loopDelayP99Ms, cpuMicros: cpu.user + cpu.system, userMicros: cpu.user, rss: mem.rss, heapUsed: mem.heapUsed, external: mem.external, fds };
      send(stats);
    }
  });
}
