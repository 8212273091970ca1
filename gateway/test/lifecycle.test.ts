/** Heartbeats, token expiry and registries that stay exact. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloseCode } from '@payments-system/protocol';
import { connect } from './support/client.ts';
import { ALICE, BOB, eventually, startTestGateway } from './support/gateway.ts';

describe('heartbeat', () => {
  it('terminates a socket that does not answer protocol pings within the timeout', async () => {
    const gateway = await startTestGateway({ heartbeatIntervalMs: 200, heartbeatTimeoutMs: 100 });
    const silent = await connect(gateway.wsUrl, gateway.token(ALICE), { autoPong: false });
    // When, to the millisecond, is the fast tier's to check (heartbeat.unit.test.ts): no wall-clock bound here.
    const closed = await silent.closed;
    assert.equal(closed.code, 1006, 'terminated without a close frame');
    await eventually(() => gateway.stats().connections === 0, 'the registry to drop the socket');
  });

  it('keeps a live client through many heartbeat rounds', async () => {
    const gateway = await startTestGateway({ heartbeatIntervalMs: 100, heartbeatTimeoutMs: 50 });
    const live = await connect(gateway.wsUrl, gateway.token(BOB));
    let pings = 0;
    await new Promise<void>((resolve) => live.ws.on('ping', () => ++pings === 6 && resolve()));
    assert.equal(live.ws.readyState, live.ws.OPEN);
    assert.equal((await live.request({ type: 'ping' })).type, 'pong');
  });
});

/**
 * The gateway's clock is the test's: tokens live long enough for any handshake on any machine,
 * then the test moves the clock past their expiry (the expiry timer itself stays real).
 */
async function startWithClock() {
  const clock = { now: Date.now() };
  const gateway = await startTestGateway({ now: () => clock.now });
  return { gateway, advance: (seconds: number) => void (clock.now += seconds * 1000) };
}

describe('token expiry', () => {
  // A timeout only so that a gateway that never expires the token fails instead of hanging.
  it('closes a socket with 4001 when its token expires', { timeout: 15_000 }, async () => {
    const { gateway, advance } = await startWithClock();
    const client = await connect(gateway.wsUrl, gateway.token(ALICE, 60));
    assert.equal((await client.request({ type: 'ping' })).type, 'pong');
    advance(60);
    const closed = await client.closed;
    assert.equal(closed.code, CloseCode.TokenExpired);
    assert.equal(closed.reason, 'token expired');
    await eventually(() => gateway.stats().expiryTracked === 0, 'the expiry index to drop the socket');
  });

  it('leaves sockets with later expiries open', { timeout: 15_000 }, async () => {
    const { gateway, advance } = await startWithClock();
    const shortLived = await connect(gateway.wsUrl, gateway.token(ALICE, 60));
    const longLived = await connect(gateway.wsUrl, gateway.token(BOB, 600));
    advance(61);
    assert.equal((await shortLived.closed).code, CloseCode.TokenExpired);
    assert.equal((await longLived.request({ type: 'ping' })).type, 'pong');
  });
});

describe('registries', () => {
  it('hold nothing after 1,000 connect/subscribe/watch/disconnect cycles', async () => {
    const gateway = await startTestGateway();
    const token = gateway.token({ userId: 'admin_1', email: 'admin@demo.test', role: 'ADMIN' });
    const batch = 50;
    for (let done = 0; done < 1000; done += batch) {
      await Promise.all(
        Array.from({ length: batch }, async (_, i) => {
          const client = await connect(gateway.wsUrl, token);
          await client.request({ type: 'subscribe', payload: { room: `payment:p${done + i}` } });
          await client.request({ type: 'presence', payload: { room: `payment:p${(done + i) % 7}`, watch: true } });
          // Half close cleanly, half vanish without a close frame.
          if (i % 2 === 0) await client.close();
          else {
            client.ws.terminate();
            await client.closed;
          }
        }),
      );
    }
    await eventually(() => gateway.stats().connections === 0, 'every connection to be released');
    assert.deepEqual(gateway.stats(), { connections: 0, rooms: 0, expiryTracked: 0, replaying: 0, presenceRooms: 0, presenceWatches: 0, presenceHandOvers: 0 });
    assert.deepEqual([...gateway.hub.connections.countByRole()], []);
  });
});
