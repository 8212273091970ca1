// The replay amplification of issue 14, against `npm run gateway`: 1,000 events of ~280 bytes in the
// bus, then clients that stop reading and send `resume {since: the first}` 14 times a second (under
// the message rate limit) for a while. Prints the gateway's RSS before and at its peak, its CPU time,
// and when each client's socket was closed. Run it on any commit to compare:
//
//   node bench/resume-amplification.mjs [clients=4] [seconds=8.5] [heartbeat-ms=30000]
//
// The gateway runs from source (tsx) with WS_MAX_BUFFERED_BYTES=256 KiB, the issue's bound.
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { sleep, startServer, useGatewayEntry } from './lib/harness.mjs';
import { adminToken, secretKey, userToken } from './lib/tokens.mjs';

const clients = Number(process.argv[2] ?? 4);
const seconds = Number(process.argv[3] ?? 8.5);
const heartbeatMs = Number(process.argv[4] ?? 30_000);
const BOUND = 256 * 1024;

useGatewayEntry('source');
const secret = randomBytes(32).toString('hex');
const server = await startServer('gateway', {
  secret,
  env: { WS_MAX_BUFFERED_BYTES: String(BOUND), HEARTBEAT_INTERVAL_MS: String(heartbeatMs), HEARTBEAT_TIMEOUT_MS: String(Math.floor(heartbeatMs / 3)) },
});
try {
  const admin = adminToken(secret);
  const publish = (/** @type {number} */ i) =>
    fetch(`${server.url}/api/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ room: 'broadcast', type: 'system:broadcast', payload: { message: `event ${i} ${'h'.repeat(180)}`, level: 'info' } }),
    }).then(async (response) => /** @type {{ id: string }} */ (await response.json()));
  /** @type {string[]} */
  const ids = [];
  for (let i = 0; i < 1000; i += 25) ids.push(...(await Promise.all(Array.from({ length: 25 }, (_, j) => publish(i + j)))).map(({ id }) => id));

  const key = secretKey(secret);
  const token = (/** @type {string} */ userId) => userToken(key, userId, 'CUSTOMER', 600);
  const before = await server.settledStats();
  let peak = before.rss;
  const sampler = setInterval(async () => (peak = Math.max(peak, (await server.stats()).rss)), 50);
  /** @type {number[]} */
  const closes = [];
  const started = performance.now();
  const sockets = await Promise.all(
    Array.from({ length: clients }, async (_, n) => {
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws`, ['bearer', token(`reader${n}`)]);
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      // ws keeps the TCP socket as `_socket` (untyped).
      const raw = /** @type {WebSocket & { _socket: import('node:net').Socket }} */ (ws)._socket;
      raw.pause(); // never reads again
      raw.once('close', () => closes.push(Math.round(performance.now() - started)));
      const timer = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify({ type: 'resume', payload: { since: ids[0] } })), 70);
      return { ws, timer };
    }),
  );
  await sleep(seconds * 1000);
  clearInterval(sampler);
  const after = await server.stats();
  for (const { ws, timer } of sockets) {
    clearInterval(timer);
    ws.terminate();
  }
  const MiB = (/** @type {number} */ bytes) => (bytes / 2 ** 20).toFixed(1);
  console.log(
    `${clients} clients that never read, resume 14/s for ${seconds} s (bound ${BOUND / 1024} KiB, heartbeat ${heartbeatMs} ms): ` +
      `RSS ${MiB(before.rss)} → peak ${MiB(peak)} MiB (+${MiB(peak - before.rss)}), ` +
      `gateway CPU ${((after.cpuMicros - before.cpuMicros) / 1e6).toFixed(2)} s, ` +
      `sockets closed after ${closes.length ? closes.sort((a, b) => a - b).map((ms) => `${ms} ms`).join(', ') : 'none'}`,
  );
} finally {
  await server.stop();
}
