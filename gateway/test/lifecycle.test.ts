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
    const started = Date.now();
    const closed = await silent.closed;
    assert.equal(closed.code, 1006, 'terminated without a close frame');
    assert.ok(Date.now() - started < 1000, 'within one interval plus the timeout');
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

describe('token expiry', () => {
  it('closes a socket with 4001 when its token expires', async () => {
    const gateway = await startTestGateway();
    const client = await connect(gateway.wsUrl, gateway.token(ALICE, 1));
    const closed = await client.closed;
    assert.equal(closed.code, CloseCode.TokenExpired);
    assert.equal(closed.reason, 'token expired');
    await eventually(() => gateway.stats().expiryTracked === 0, 'the expiry index to drop the socket');
  });

  it('leaves sockets with later expiries open', async () => {
    const gateway = await startTestGateway();
    const shortLived = await connect(gateway.wsUrl, gateway.token(ALICE, 1));
    const longLived = await connect(gateway.wsUrl, gateway.token(BOB, 600));
    assert.equal((await shortLived.closed).code, CloseCode.TokenExpired);
    assert.equal((await longLived.request({ type: 'ping' })).type, 'pong');
  });
});

describe('registries', () => {
  it('hold nothing after 1,000 connect/subscribe/disconnect cycles', async () => {
    const gateway = await startTestGateway();
    const token = gateway.token({ userId: 'admin_1', email: 'admin@demo.test', role: 'ADMIN' });
    const batch = 50;
    for (let done = 0; done < 1000; done += batch) {
      await Promise.all(
        Array.from({ length: batch }, async (_, i) => {
          const client = await connect(gateway.wsUrl, token);
          await client.request({ type: 'subscribe', payload: { room: `payment:p${done + i}` } });
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
    assert.deepEqual(gateway.stats(), { connections: 0, rooms: 0, expiryTracked: 0, replaying: 0 });
    assert.deepEqual([...gateway.hub.connections.countByRole()], []);
  });
});
