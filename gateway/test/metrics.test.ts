/** /metrics after a scripted session: every counter says what the script did. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloseCode } from '@payments-system/protocol';
import { connect, refusedHandshake } from './support/client.ts';
import { ADMIN, ALICE, BOB, eventually, publish, startTestGateway } from './support/gateway.ts';

/** Parses Prometheus text into `name{labels}` → value. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

describe('GET /metrics', () => {
  it('counts connections, refusals, messages, events, fan-out and closes exactly', async () => {
    const gateway = await startTestGateway({ rateLimitPerSecond: 5, rateLimitBurst: 5 });
    const alice = await connect(gateway.wsUrl, gateway.token(ALICE));
    const bob = await connect(gateway.wsUrl, gateway.token(BOB));
    const admin = await connect(gateway.wsUrl, gateway.token(ADMIN));
    await refusedHandshake(gateway.wsUrl, 'forged');
    await refusedHandshake(gateway.wsUrl, undefined);
    await refusedHandshake(gateway.wsUrl, gateway.token(ALICE), { path: '/nope' });

    await alice.request({ type: 'ping' });
    await alice.request({ type: 'subscribe', payload: { room: 'user:bob' } }); // forbidden
    alice.send('garbage');
    await alice.next('error');
    assert.equal((await publish(gateway, { room: 'broadcast', type: 'system:broadcast', payload: { message: 'hi', level: 'info' } })).status, 202);
    await Promise.all([alice, bob, admin].map((client) => client.next('system:broadcast')));
    assert.equal((await publish(gateway, { room: 'broadcast', type: 'system:broadcast', payload: { message: 'x', level: 'info' } }, gateway.token(BOB))).status, 403);

    for (let i = 0; i < 20; i++) bob.send({ type: 'ping' });
    assert.equal((await bob.closed).code, CloseCode.PolicyViolation);
    await admin.close();
    await eventually(() => gateway.stats().connections === 1, 'two sockets to be released');

    const metrics = parseMetrics(await (await fetch(`${gateway.url}/metrics`)).text());
    const expected: Record<string, number> = {
      'gateway_connections{role="CUSTOMER"}': 1,
      gateway_connections_opened_total: 3,
      'gateway_connections_closed_total{code="1008"}': 1,
      'gateway_connections_closed_total{code="1000"}': 1,
      'gateway_handshakes_refused_total{status="401",reason="credentials"}': 2,
      'gateway_handshakes_refused_total{status="404",reason="not_found"}': 1,
      'gateway_auth_failures_total{reason="malformed"}': 1,
      'gateway_auth_failures_total{reason="missing"}': 1,
      'gateway_messages_received_total{type="ping"}': 1 + 5,
      'gateway_messages_received_total{type="subscribe"}': 1,
      'gateway_messages_received_total{type="invalid"}': 1,
      'gateway_messages_sent_total{type="pong"}': 1 + 5,
      'gateway_messages_sent_total{type="error"}': 2,
      'gateway_messages_sent_total{type="system:broadcast"}': 3,
      'gateway_events_published_total{type="system:broadcast"}': 1,
      gateway_broadcast_fanout_count: 1,
      gateway_broadcast_fanout_sum: 3,
      gateway_broadcast_duration_seconds_count: 1,
      gateway_rate_limit_closes_total: 1,
      gateway_heartbeat_terminations_total: 0,
      gateway_slow_consumer_closes_total: 0,
      gateway_token_expiry_closes_total: 0,
      // Each socket entered its own user room; bob's and admin's left theirs.
      'gateway_presence_changes_total{change="joined"}': 3,
      'gateway_presence_changes_total{change="left"}': 2,
    };
    for (const [sample, value] of Object.entries(expected)) assert.equal(metrics.get(sample), value, sample);
    const again = parseMetrics(await (await fetch(`${gateway.url}/metrics`)).text());
    for (const sample of Object.keys(expected).filter((name) => name.startsWith('gateway_presence_changes_total'))) {
      assert.equal(again.get(sample), expected[sample], `${sample}, scraped again`);
    }
    assert.ok(metrics.has('nodejs_eventloop_lag_seconds'), 'event-loop lag is exported');
  });
});
