/**
 * A gateway survives every class of issue 14 at once. One real gateway process (`npm run gateway`'s
 * entry) takes, for a few seconds together: upgrade targets that used to kill it, clients that stop
 * reading and spam `resume` (the replay amplification), a reader that stops during a broadcast
 * flood (closed by its bound, 4008, or by the heartbeat it cannot answer, whichever comes first),
 * login brute force, slow request bodies, garbage frames and a flood, one user opening more
 * sockets than allowed, and tokens that live too long. Throughout, /api/health and a well-behaved
 * client's ping keep being answered, each hostile client gets its documented answer, and the
 * process's RSS grows by no more than the per-socket bounds plus a small constant.
 *
 * The hostile round runs twice: the first warms up every path it takes (V8's heap grows to its
 * working size once), the second is measured. The figures it prints (RSS, time to close each slow
 * reader, latencies) are those docs/benchmarks.md reports:
 *   node scripts/run-node-tests.mjs gateway/test/security/gateway-survives.test.ts
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import WebSocket from 'ws';
import { CloseCode } from '@payments-system/protocol';
import { signAccessToken, type TokenSubject } from '../../src/auth/tokens.ts';
import { connect, refusedHandshake, type TestClient } from '../support/client.ts';
import { ADMIN, ALICE, BOB } from '../support/gateway.ts';
import { listeningUrl, spawnGateway } from '../support/process.ts';
import { errorOf, rawRequest, upgradeRequest } from '../support/raw-http.ts';

const BOUND = 256 * 1024; // the bound of the issue's measurement
const SOCKETS_PER_USER = 8;
const ROUND_MS = 5000;
/** Sockets that may hold a backlog at once: four resume spammers and the stalled reader. */
const STALLED_SOCKETS = 5;
/**
 * Allowance above those bounds: the garbage of the traffic itself. V8 sizes its old space by the
 * allocation rate, and the measured round grew it by up to ~24 MiB of 43 MiB (read from
 * nodejs_heap_space_size_total_bytes), with the replays paced and every backlog bounded. When
 * other processes hold both cores, collection lags the allocation: +49 MiB was seen at a load
 * average of 6-7. The unbounded send path this guards against grew RSS by 166 MiB in 8.5 s, and
 * send-path-bound.test.ts checks each backlog against its bound exactly.
 */
const CONSTANT = 64 * 1024 * 1024;
const secret = randomBytes(32).toString('hex');
const MiB = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

describe('a gateway under every hostile input of issue 14 at once', () => {
  const gateway = spawnGateway({
    JWT_SECRET: secret,
    DEMO_USERS: 'true',
    WS_MAX_BUFFERED_BYTES: String(BOUND),
    WS_MAX_SOCKETS_PER_USER: String(SOCKETS_PER_USER),
    RECOVERY_MAX_EVENTS: '1000',
    HEARTBEAT_INTERVAL_MS: '3000',
    HEARTBEAT_TIMEOUT_MS: '1500',
    HTTP_HEADERS_TIMEOUT_MS: '1000',
    HTTP_REQUEST_TIMEOUT_MS: '1500',
    // The replay history is a bound of its own (BUS_RETENTION_*): sized to the 1,000 events replayed.
    BUS_RETENTION_BYTES: String(1024 * 1024),
  });
  after(() => void gateway.child.kill('SIGKILL'));
  const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${gateway.child.pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;
  const token = (subject: TokenSubject) => signAccessToken(secret, subject, { expiresInSeconds: 600 });

  it('keeps answering health and pings, gives each hostile client its answer, and stays within its memory bounds', { timeout: 90_000 }, async () => {
    const url = listeningUrl(await gateway.waitForLine(/listening/));
    const wsUrl = `${url.replace('http', 'ws')}/ws`;
    const port = Number(new URL(url).port);
    const adminToken = token(ADMIN);
    const publish = (text: string) =>
      fetch(`${url}/api/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ room: 'broadcast', type: 'system:broadcast', payload: { message: text, level: 'info' } }),
      }).then((response) => response.json() as Promise<{ id: string }>);
    // History to replay: 1,000 events of ~280 bytes (the issue's case), published over HTTP.
    const ids: string[] = [];
    for (let batch = 0; batch < 1000; batch += 25) {
      ids.push(...(await Promise.all(Array.from({ length: 25 }, (_, i) => publish(`history ${batch + i} ${'h'.repeat(180)}`)))).map((r) => r.id));
    }
    const calm = await connect(wsUrl, token(BOB));

    /** Every hostile client of the issue at once, and the well-behaved side, for ROUND_MS. */
    const hostileRound = async (round: number) => {
      const deadline = Date.now() + ROUND_MS;
      const running = () => Date.now() < deadline;

      // The well-behaved side: health and a ping, every 50 ms, each answered.
      const latencies = { health: [] as number[], ping: [] as number[] };
      const wellBehaved = (async () => {
        while (running()) {
          let started = performance.now();
          assert.equal((await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(5000) })).status, 200);
          latencies.health.push(performance.now() - started);
          started = performance.now();
          assert.equal((await calm.request({ type: 'ping' })).type, 'pong');
          latencies.ping.push(performance.now() - started);
          await pause(50);
        }
      })();

      // 1. Upgrade targets that used to end the process.
      const upgrades = (async () => {
        let answered = 0;
        while (running()) {
          for (const target of ['//[', '//a:99999/ws', '//%']) {
            const response = await rawRequest(port, upgradeRequest(target, { 'Sec-WebSocket-Protocol': `bearer, ${token(ALICE)}` }));
            assert.ok([400, 404].includes(response.status), `${target}: ${response.status}`);
            errorOf(response);
            answered++;
          }
        }
        return answered;
      })();

      // 2. Four clients that stop reading and send `resume` 14 times a second (the amplification).
      const spammers = Array.from({ length: 4 }, async () => {
        const client = await connect(wsUrl, token(ALICE));
        const socket = (client.ws as unknown as { _socket: Socket })._socket;
        socket.pause();
        const started = performance.now();
        const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now() - started)));
        const spam = setInterval(() => {
          if (client.ws.readyState === WebSocket.OPEN) client.send({ type: 'resume', payload: { since: ids[0] } });
        }, 70);
        const ms = await closed;
        clearInterval(spam);
        return ms;
      });

      // 3. A reader that stops during a broadcast flood.
      const stalled = (async () => {
        const userId = `stalled${round}`;
        const client = await connect(wsUrl, token({ userId, email: `${userId}@x.test`, role: 'CUSTOMER' }));
        const socket = (client.ws as unknown as { _socket: Socket })._socket;
        socket.pause();
        const started = performance.now();
        const seen = gateway.output.length;
        const closedHere = () => gateway.output.slice(seen).some((text) => text.includes(`"userId":"${userId}"`) && /slow consumer|heartbeat timed out/.test(text));
        let flooded = 0;
        while (running() && !closedHere()) {
          await Promise.all(Array.from({ length: 50 }, () => publish(`flood ${'f'.repeat(990)}`)));
          flooded += 50;
        }
        const ms = performance.now() - started;
        socket.resume();
        const code = (await client.closed).code;
        return { ms, code, flooded };
      })();

      // 4. Login brute force on one account (an unknown one counts alike).
      const bruteForce = (async () => {
        const statuses: number[] = [];
        while (running() && statuses.length < 30) statuses.push((await login(url, `victim${round}@demo.test`, `guess${statuses.length}`)).status);
        return statuses;
      })();

      // 5. Request bodies that never finish.
      const slowBodies = Promise.all(
        Array.from({ length: 5 }, () =>
          rawRequest(port, 'POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"em', {
            keepOpen: true,
            timeoutMs: 10_000,
          }),
        ),
      );

      // 6. Garbage frames on a reading socket, then a flood.
      const garbage = (async () => {
        const client = await connect(wsUrl, token({ userId: 'mallory', email: 'mallory@x.test', role: 'CUSTOMER' }));
        for (const frame of ['{"type":', '[]', 'null', '{"type":"resume","payload":{"since":"x"}}', Buffer.from([0, 1, 2])]) {
          client.ws.send(frame);
          assert.equal((await client.next('error')).payload.code, 'BAD_REQUEST');
        }
        for (let i = 0; i < 200; i++) client.send({ type: 'ping' });
        return (await client.closed).code;
      })();

      // 7. One user opening more sockets than allowed.
      const tooMany = (async () => {
        const eve = token({ userId: 'eve', email: 'eve@x.test', role: 'CUSTOMER' });
        const outcomes = await Promise.allSettled(Array.from({ length: SOCKETS_PER_USER + 4 }, () => connect(wsUrl, eve)));
        const opened = outcomes.filter((outcome): outcome is PromiseFulfilledResult<TestClient> => outcome.status === 'fulfilled');
        const refused = outcomes.filter((outcome) => outcome.status === 'rejected' && /HTTP 429/.test(String(outcome.reason)));
        await Promise.all(opened.map((outcome) => outcome.value.close()));
        return { opened: opened.length, refused: refused.length };
      })();

      // 8. A token that lives too long.
      const longLived = refusedHandshake(wsUrl, jwt.sign({ ...ALICE, exp: Math.floor(Date.now() / 1000) + 100 * 365 * 86_400 }, secret, { algorithm: 'HS256' }));

      const [upgradesAnswered, spamCloseMs, slowReader, logins, slow, garbageClose, cap, lifetime] = await Promise.all([
        upgrades,
        Promise.all(spammers),
        stalled,
        bruteForce,
        slowBodies,
        garbage,
        tooMany,
        longLived,
      ]);
      await wellBehaved;

      // Each hostile client got its documented answer.
      assert.ok(upgradesAnswered > 0);
      // Closed by whichever bound it reached first: its backlog (4008) or the heartbeat it cannot answer (1006).
      assert.ok([CloseCode.SlowConsumer, 1006].includes(slowReader.code), `the stalled reader closed with ${slowReader.code}`);
      assert.deepEqual(logins.slice(0, 10), Array(10).fill(401));
      assert.ok(logins.length > 10 && logins.slice(10).every((status) => status === 429), `logins: ${logins.join(',')}`);
      for (const response of slow) assert.equal(response.status, 408);
      assert.equal(garbageClose, CloseCode.PolicyViolation);
      assert.deepEqual(cap, { opened: SOCKETS_PER_USER, refused: 4 });
      assert.equal(lifetime.status, 401);
      return { upgradesAnswered, spamCloseMs, slowReader, logins, latencies };
    };

    // Warm-up: scrypt takes 16 MiB of whichever thread-pool thread runs it, kept by its malloc arena;
    // concurrent logins touch every thread once, so the measured round does not pay that again.
    await Promise.all(Array.from({ length: 8 }, (_, i) => login(url, `warmup${i}@demo.test`, 'x')));
    await hostileRound(1);
    await settle(url);
    const rssBefore = rss();
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, rss())), 25);
    const measured = await hostileRound(2);
    clearInterval(sampler);
    peak = Math.max(peak, rss());
    await settle(url);
    const rssAfter = rss();

    assert.equal(gateway.child.exitCode, null, 'the gateway is still running');
    assert.equal((await fetch(`${url}/api/health`)).status, 200);
    const growth = peak - rssBefore;
    const allowance = STALLED_SOCKETS * BOUND + CONSTANT;
    const p99 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.99)] ?? NaN;
    const { latencies, slowReader, logins } = measured;
    console.log(
      [
        `survive: RSS ${MiB(rssBefore)} before → peak ${MiB(peak)} (+${MiB(growth)}; allowance ${MiB(allowance)}) → ${MiB(rssAfter)} after`,
        `survive: resume spammers that stopped reading closed after ${measured.spamCloseMs.map((ms) => `${Math.round(ms)}`).join(', ')} ms (heartbeat 3000 + 1500 ms)`,
        `survive: a reader stalled during a flood was closed (${slowReader.code}) ${Math.round(slowReader.ms)} ms after the flood began (${slowReader.flooded} events of ~1 KB)`,
        `survive: ${measured.upgradesAnswered} malformed upgrades answered; logins ${logins.filter((s) => s === 401).length}×401 then ${logins.filter((s) => s === 429).length}×429`,
        `survive: /api/health p99 ${p99(latencies.health).toFixed(1)} ms max ${Math.max(...latencies.health).toFixed(1)} ms (${latencies.health.length}); ping p99 ${p99(latencies.ping).toFixed(1)} ms max ${Math.max(...latencies.ping).toFixed(1)} ms`,
      ].join('\n'),
    );
    assert.ok(growth <= allowance, `RSS grew ${MiB(growth)}, more than ${MiB(allowance)}`);
    calm.ws.close();
  });
});

function login(url: string, email: string, password: string): Promise<Response> {
  return fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A few requests after a round, so that what it left (closing sockets, timers) has run its course. */
async function settle(url: string): Promise<void> {
  for (let i = 0; i < 3; i++) await fetch(`${url}/api/health`);
}
