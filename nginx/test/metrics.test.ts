/**
 * `/metrics` after a scripted session through nginx: every client action goes through the
 * public edge, then Prometheus's view is taken the way it scrapes in compose, from each gateway
 * on the internal network, and summed over the instances. The counters must match the script.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloseCode } from '@payments-system/protocol';
import { connect, refusedHandshake } from '../../gateway/test/support/client.ts';
import { ADMIN, ALICE, BOB } from '../../gateway/test/support/gateway.ts';
import { eventually, gatewayHealth, startStack, type Stack } from './support/stack.ts';

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Prometheus text format, samples only. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) throw new Error(`not a sample: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** Sum over every instance and every sample of `name` whose labels include `labels`. */
function total(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}

describe('/metrics after a scripted session through nginx', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      gatewayEnv: {
        // A flood of 6 closes at the 6th message; heartbeats quick enough to see a dead socket go.
        WS_RATE_LIMIT_PER_SECOND: '1',
        WS_RATE_LIMIT_BURST: '5',
        HEARTBEAT_INTERVAL_MS: '300',
        HEARTBEAT_TIMEOUT_MS: '200',
      },
    });
  });
  after(() => stack?.stop());

  it('counts connections, refusals, auth failures, messages, events, fan-out, and every kind of close', async () => {
    const options = { ca: stack.ca, origin: stack.origin };
    // Fresh instances: nothing counted yet.
    const before = await scrape();
    assert.equal(total(before, 'gateway_connections_opened_total'), 0);

    // Five sockets: three that stay for a while, one that never answers pings, one whose token expires.
    const alice = await connect(stack.wssUrl, stack.token(ALICE), options);
    const bob = await connect(stack.wssUrl, stack.token(BOB), options);
    const admin = await connect(stack.wssUrl, stack.token(ADMIN), options);
    const deaf = await connect(stack.wssUrl, stack.token({ userId: 'deaf', email: 'deaf@demo.test', role: 'VENDOR' }), { ...options, autoPong: false });
    // Long enough for any handshake; expired below by moving the gateways' clocks, not by waiting.
    const expiring = await connect(stack.wssUrl, stack.token({ userId: 'brief', email: 'brief@demo.test', role: 'VENDOR' }, 60), options);

    // Refused handshakes: two bad tokens (401), one foreign Origin (403); one unauthenticated publish.
    const forged = `${stack.token(BOB).slice(0, -4)}AAAA`;
    assert.equal((await refusedHandshake(stack.wssUrl, forged, options)).status, 401);
    assert.equal((await refusedHandshake(stack.wssUrl, 'not-a-jwt', { ...options, via: 'query' })).status, 401);
    assert.equal((await refusedHandshake(stack.wssUrl, stack.token(BOB), { ca: stack.ca, origin: 'https://evil.example' })).status, 403);
    const anonymous = await stack.request('/api/events', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(anonymous.status, 401);

    // Client messages: alice 2 pings and 1 invalid frame, admin 1 subscribe.
    assert.equal((await alice.request({ type: 'ping' })).type, 'pong');
    assert.equal((await alice.request({ type: 'ping' })).type, 'pong');
    alice.send('{not json');
    assert.equal((await alice.next('error')).type, 'error');
    assert.equal((await admin.request({ type: 'subscribe', payload: { room: 'payment:pay_5' } })).type, 'subscribed');

    // One event to everyone, published through nginx; it reaches the sockets of the instance it landed on.
    const published = await stack.request('/api/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.token(ADMIN)}` },
      body: JSON.stringify({ room: 'broadcast', type: 'system:broadcast', payload: { message: 'maintenance at 02:00', level: 'info' }, correlationId: 'metrics-1' }),
    });
    assert.equal(published.status, 202, published.body);
    const reached = (await Promise.all([alice, bob, admin].map((client) => client.next('system:broadcast', 500).then(() => 1, () => 0)))).reduce(
      (sum: number, got) => sum + got,
      0,
    );
    assert.ok(reached >= 1);

    // bob floods: 5 pings pass (the burst), the 6th closes the socket with 1008.
    for (let i = 0; i < 8; i++) bob.send({ type: 'ping' });
    assert.equal((await bob.closed).code, CloseCode.PolicyViolation);
    // The deaf socket is terminated by the heartbeat, the expiring one closed with 4001, alice leaves with 1000.
    await deaf.closed;
    await stack.advanceGatewayClocks(61);
    assert.equal((await expiring.closed).code, 4001);
    await alice.close();
    await eventually(async () => (await Promise.all(stack.gateways.map(gatewayHealth))).reduce((sum, health) => sum + health.connections, 0) === 1, 'only the admin socket left');

    const samples = await scrape();
    // Connections.
    assert.equal(total(samples, 'gateway_connections_opened_total'), 5);
    assert.equal(total(samples, 'gateway_connections', { role: 'ADMIN' }), 1);
    assert.equal(total(samples, 'gateway_connections', { role: 'CUSTOMER' }), 0);
    assert.equal(total(samples, 'gateway_connections', { role: 'VENDOR' }), 0);
    assert.equal(total(samples, 'gateway_connections_closed_total'), 4);
    assert.equal(total(samples, 'gateway_connections_closed_total', { code: '1000' }), 1);
    assert.equal(total(samples, 'gateway_connections_closed_total', { code: '1008' }), 1);
    assert.equal(total(samples, 'gateway_connections_closed_total', { code: '4001' }), 1);
    assert.equal(total(samples, 'gateway_rate_limit_closes_total'), 1);
    assert.equal(total(samples, 'gateway_heartbeat_terminations_total'), 1);
    assert.equal(total(samples, 'gateway_token_expiry_closes_total'), 1);
    assert.equal(total(samples, 'gateway_slow_consumer_closes_total'), 0);
    // Refusals and auth failures.
    assert.equal(total(samples, 'gateway_handshakes_refused_total', { status: '401' }), 2);
    assert.equal(total(samples, 'gateway_handshakes_refused_total', { status: '403' }), 1);
    assert.equal(total(samples, 'gateway_handshakes_refused_total'), 3);
    assert.equal(total(samples, 'gateway_auth_failures_total', { reason: 'invalid_signature' }), 1);
    assert.equal(total(samples, 'gateway_auth_failures_total', { reason: 'malformed' }), 1);
    assert.equal(total(samples, 'gateway_auth_failures_total', { reason: 'missing' }), 1);
    assert.equal(total(samples, 'gateway_auth_failures_total'), 3);
    // Messages in and out.
    assert.equal(total(samples, 'gateway_messages_received_total', { type: 'ping' }), 2 + 5);
    assert.equal(total(samples, 'gateway_messages_received_total', { type: 'invalid' }), 1);
    assert.equal(total(samples, 'gateway_messages_received_total', { type: 'subscribe' }), 1);
    assert.equal(total(samples, 'gateway_messages_received_total'), 9);
    assert.equal(total(samples, 'gateway_messages_sent_total', { type: 'pong' }), 2 + 5);
    assert.equal(total(samples, 'gateway_messages_sent_total', { type: 'error' }), 1);
    assert.equal(total(samples, 'gateway_messages_sent_total', { type: 'subscribed' }), 1);
    // The event: published once, delivered once per recipient, one fan-out and one duration observation.
    assert.equal(total(samples, 'gateway_events_published_total', { type: 'system:broadcast' }), 1);
    assert.equal(total(samples, 'gateway_broadcast_fanout_count'), 1);
    const delivered = total(samples, 'gateway_messages_sent_total', { type: 'system:broadcast' });
    assert.equal(total(samples, 'gateway_broadcast_fanout_sum'), delivered);
    assert.ok(delivered >= reached, `delivered ${delivered}, read ${reached}`);
    assert.equal(total(samples, 'gateway_broadcast_duration_seconds_count'), 1);
    assert.equal(total(samples, 'gateway_broadcast_fanout_bucket', { le: '+Inf' }), 1);
    // prom-client's default metrics, event-loop lag among them.
    assert.ok(samples.some((sample) => sample.name === 'nodejs_eventloop_lag_seconds'));
    assert.ok(samples.some((sample) => sample.name === 'process_resident_memory_bytes'));
    await admin.close();
  });

  /** Each gateway's /metrics on the internal network, as Prometheus scrapes it; samples of all instances. */
  async function scrape(): Promise<Sample[]> {
    const texts = await Promise.all(
      stack.gateways.map(async (gateway) => {
        const response = await fetch(`${gateway.url}/metrics`);
        assert.equal(response.status, 200);
        assert.match(String(response.headers.get('content-type')), /^text\/plain; version=0\.0\.4/);
        return response.text();
      }),
    );
    return texts.flatMap(parseMetrics);
  }
});

