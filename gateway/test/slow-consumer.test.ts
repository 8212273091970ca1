/**
 * Slow consumers cannot grow the gateway's memory: a client that stops reading while ~100 MB
 * is published to its room is closed with 4008 once its unsent backlog passes the bound, the
 * gateway's RSS grows by no more than the bound plus a small constant, and a healthy client in
 * the same room keeps its latency.
 *
 * RSS is read from /proc of a separate gateway process, so the test's own clients do not
 * count. That process is this file run again with SLOW_CONSUMER_CHILD=1: it starts the real
 * gateway (`startGateway`) and publishes through its bus on request. Publishing 100 MB through
 * HTTP would take ~100,000 requests (events carry at most 1,000 characters of text), too slow
 * for `npm test`; the bus is the same path POST /api/events ends in.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Room } from '@payments-system/protocol';

const EVENT_TEXT = 1000; // the protocol's maximum for a system:broadcast message
const PER_TURN = 50;

if (process.env['SLOW_CONSUMER_CHILD'] === '1') {
  // ---- the gateway process
  const { startGateway } = await import('../src/server.ts');
  const gateway = await startGateway({
    jwtSecret: process.env['JWT_SECRET'] ?? '',
    host: '127.0.0.1',
    port: 0,
    logLevel: 'warn',
    maxBufferedBytes: Number(process.env['WS_MAX_BUFFERED_BYTES'] ?? 1024 * 1024),
    // The replay log is a separate, configured bound (BUS_RETENTION_*); keep it out of this
    // measurement, which is about one socket's unsent backlog.
    busRetentionBytes: 0,
  });
  const padding = 'x'.repeat(EVENT_TEXT);
  process.on('message', (message: { seq: number; events: number }) => {
    void (async () => {
      for (let sent = 0; sent < message.events; ) {
        for (let i = 0; i < PER_TURN && sent < message.events; i++, sent++) {
          const stamp = `@T${process.hrtime.bigint()}@`;
          void gateway.publish({
            room: 'broadcast' as Room,
            type: 'system:broadcast',
            payload: { message: stamp + padding.slice(stamp.length), level: 'info' },
          });
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      process.send?.({ seq: message.seq });
    })();
  });
  process.once('SIGTERM', () => void gateway.close().then(() => process.exit(0)));
  process.send?.({ url: gateway.wsUrl });
} else {
  await defineTests();
}

async function defineTests(): Promise<void> {
  const { describe, it, after } = await import('node:test');
  const { default: WebSocket } = await import('ws');
  const { randomBytes } = await import('node:crypto');
  const { signAccessToken } = await import('../src/auth/tokens.ts');
  const { CloseCode } = await import('@payments-system/protocol');

  const BOUND = 1024 * 1024;
  // Allowance above the bound: young-generation garbage of publishing and one socket's kernel-side
  // bookkeeping. Measured growth is printed; see docs/benchmarks.md.
  const CONSTANT = 16 * 1024 * 1024;
  const ROUND_EVENTS = 500; // ~0.5 MB per round, then wait for the healthy client to catch up

  describe('slow consumer', () => {
    const secret = randomBytes(32).toString('hex');
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { PATH: process.env['PATH'] ?? '', SLOW_CONSUMER_CHILD: '1', JWT_SECRET: secret, // SLOW_CONSUMER_CHILD_BOUND: a negative control (e.g. 1 GiB) that must make this test fail.
        WS_MAX_BUFFERED_BYTES: process.env['SLOW_CONSUMER_CHILD_BOUND'] ?? String(BOUND) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const output: string[] = [];
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    after(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let seq = 0;
    const call = (events: number) =>
      new Promise<void>((resolve) => {
        const id = ++seq;
        const onMessage = (message: { seq?: number }) => {
          if (message.seq === id) {
            child.off('message', onMessage);
            resolve();
          }
        };
        child.on('message', onMessage);
        child.send({ seq: id, events });
      });
    const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;
    const token = (userId: string) => signAccessToken(secret, { userId, email: `${userId}@test.test`, role: 'CUSTOMER' }, { expiresInSeconds: 300 });
    const open = (url: string, userId: string) =>
      new Promise<InstanceType<typeof WebSocket>>((resolve, reject) => {
        const ws = new WebSocket(url, ['bearer', token(userId)]);
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
      });

    /** The healthy client: counts events and keeps publish-to-receive latencies (ms). */
    let received = 0;
    let latencies: number[] = [];
    const onHealthyMessage = (data: Buffer) => {
      received++;
      const text = data.toString('latin1', 0, 160);
      const start = text.indexOf('@T');
      if (start >= 0) latencies.push(Number(process.hrtime.bigint() - BigInt(text.slice(start + 2, text.indexOf('@', start + 2)))) / 1e6);
    };
    const flood = async (megabytes: number) => {
      latencies = [];
      const events = Math.ceil((megabytes * 1024 * 1024) / (EVENT_TEXT + 120));
      for (let sent = 0; sent < events; sent += ROUND_EVENTS) {
        const target = received + Math.min(ROUND_EVENTS, events - sent);
        await call(Math.min(ROUND_EVENTS, events - sent));
        const deadline = Date.now() + 10_000;
        while (received < target && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
        assert.ok(received >= target, `healthy client fell behind (${received} of ${target})`);
      }
      const sorted = [...latencies].sort((a, b) => a - b);
      return { events, p50: sorted[Math.floor(sorted.length * 0.5)]!, p95: sorted[Math.floor(sorted.length * 0.95)]! };
    };

    it('closes a stalled client with 4008 while 100 MB goes to its room; RSS stays within the bound; others keep their latency', { timeout: 60_000 }, async () => {
      const { url } = await new Promise<{ url: string }>((resolve, reject) => {
        child.once('message', resolve);
        child.once('exit', (code) => reject(new Error(`gateway child exited (${code}): ${output.join('')}`)));
      });
      const healthy = await open(url, 'healthy');
      healthy.on('message', onHealthyMessage);

      // Baseline: the same flood pattern with nobody stalled (also warms up the heap).
      const baseline = await flood(20);
      const rssBefore = rss();

      const stalled = await open(url, 'stalled');
      const stalledSocket = (stalled as unknown as { _socket: import('node:net').Socket })._socket;
      stalledSocket.pause(); // stops reading: the kernel buffers fill, then the gateway's
      const stalledClosed = new Promise<number>((resolve) => stalled.once('close', (code) => resolve(code)));

      let peak = rssBefore;
      const sampler = setInterval(() => (peak = Math.max(peak, rss())), 10);
      const loaded = await flood(100);
      clearInterval(sampler);
      peak = Math.max(peak, rss());

      const growth = peak - rssBefore;
      console.log(
        `slow consumer: baseline p50 ${baseline.p50.toFixed(2)} ms p95 ${baseline.p95.toFixed(2)} ms; ` +
          `with a stalled client p50 ${loaded.p50.toFixed(2)} ms p95 ${loaded.p95.toFixed(2)} ms; ` +
          `RSS ${(rssBefore / 2 ** 20).toFixed(1)} MiB → peak ${(peak / 2 ** 20).toFixed(1)} MiB (+${(growth / 2 ** 20).toFixed(1)} MiB, bound ${BOUND / 2 ** 20} MiB)`,
      );
      assert.ok(output.join('').includes('slow consumer'), 'the gateway logged the slow consumer');
      // The stalled client reads again: its backlog, then the close frame.
      stalledSocket.resume();
      assert.equal(await stalledClosed, CloseCode.SlowConsumer);
      assert.ok(growth <= BOUND + CONSTANT, `RSS grew ${growth} bytes, more than the bound plus ${CONSTANT}`);
      // Twice the baseline, with 1 ms of slack for timer granularity on a shared 2-core machine.
      assert.ok(loaded.p50 <= 2 * baseline.p50 + 1, `healthy p50 ${loaded.p50} ms vs baseline ${baseline.p50} ms`);
      assert.equal(healthy.readyState, WebSocket.OPEN, 'the healthy client is still connected');
      healthy.close();
    });
  });
}
