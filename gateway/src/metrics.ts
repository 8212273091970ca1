/**
 * Prometheus metrics (prom-client), one registry per gateway so that several gateways in
 * one process (tests, embedding) never share counters. Names are documented in
 * docs/operations.md; the hot path only increments counters and observes histograms.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Role } from '@payments-system/protocol';

export class GatewayMetrics {
  readonly registry = new Registry();

  readonly connectionsOpened = new Counter({
    name: 'gateway_connections_opened_total',
    help: 'WebSocket connections accepted.',
    registers: [this.registry],
  });
  readonly connectionsClosed = new Counter({
    name: 'gateway_connections_closed_total',
    help: 'WebSocket connections closed, by close code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly handshakesRefused = new Counter({
    name: 'gateway_handshakes_refused_total',
    help: 'WebSocket handshakes refused before the upgrade, by HTTP status and reason.',
    labelNames: ['status', 'reason'] as const,
    registers: [this.registry],
  });
  readonly authFailures = new Counter({
    name: 'gateway_auth_failures_total',
    help: 'Tokens refused (handshakes, in-band auth and HTTP API), by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly messagesReceived = new Counter({
    name: 'gateway_messages_received_total',
    help: 'Client messages received, by type ("invalid" for rejected frames).',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  readonly messagesSent = new Counter({
    name: 'gateway_messages_sent_total',
    help: 'Messages written to sockets, by type (room events count once per recipient).',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  readonly eventsPublished = new Counter({
    name: 'gateway_events_published_total',
    help: 'Room events accepted through POST /api/events, by type.',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  readonly broadcastFanout = new Histogram({
    name: 'gateway_broadcast_fanout',
    help: 'Local recipients per delivered room event.',
    buckets: [0, 1, 5, 25, 100, 500, 1000, 5000, 20000],
    registers: [this.registry],
  });
  readonly broadcastDuration = new Histogram({
    name: 'gateway_broadcast_duration_seconds',
    help: 'Time to write one room event to every local recipient.',
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
    registers: [this.registry],
  });
  readonly eventsRefused = new Counter({
    name: 'gateway_events_refused_total',
    help: 'POST /api/events answered 503, by reason (unavailable: Redis could not take it; not-replicated: too few replicas acknowledged it in time).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly redisPrimary = new Gauge({
    name: 'gateway_redis_primary',
    help: 'The Redis primary this gateway writes to (1 for its address; with Sentinels, it follows a failover).',
    labelNames: ['address'] as const,
    registers: [this.registry],
  });
  readonly redisFailovers = new Counter({
    name: 'gateway_redis_failovers_total',
    help: 'Changes of the Redis primary this gateway saw (Sentinel mode).',
    registers: [this.registry],
  });
  readonly redisWaitTimeouts = new Counter({
    name: 'gateway_redis_wait_timeouts_total',
    help: 'Writes and reads that fewer than REDIS_MIN_REPLICAS_ACK replicas acknowledged within REDIS_WAIT_TIMEOUT_MS.',
    registers: [this.registry],
  });
  readonly resumes = new Counter({
    name: 'gateway_resumes_total',
    help: 'Resume requests after a reconnect, by outcome (resumed, too-old, too-many, unavailable; refused: in-progress, rate-limited), and position requests (position).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly heartbeatTerminations = new Counter({
    name: 'gateway_heartbeat_terminations_total',
    help: 'Sockets terminated for not answering heartbeat pings.',
    registers: [this.registry],
  });
  readonly rateLimitCloses = new Counter({
    name: 'gateway_rate_limit_closes_total',
    help: 'Sockets closed with 1008 for exceeding their message rate.',
    registers: [this.registry],
  });
  readonly slowConsumerCloses = new Counter({
    name: 'gateway_slow_consumer_closes_total',
    help: 'Sockets closed with 4008 for an unsent backlog over WS_MAX_BUFFERED_BYTES.',
    registers: [this.registry],
  });
  readonly loginsThrottled = new Counter({
    name: 'gateway_logins_throttled_total',
    help: 'Logins answered 429, by the limit that refused them (account: failures per account, address: attempts per client address).',
    labelNames: ['scope'] as const,
    registers: [this.registry],
  });
  readonly paymentsThrottled = new Counter({
    name: 'gateway_payments_throttled_total',
    help: 'Payment creations answered 429 (the per-user quota of the demo).',
    registers: [this.registry],
  });
  readonly httpClientErrors = new Counter({
    name: 'gateway_http_client_errors_total',
    help: 'HTTP connections answered before any handler ran (malformed request, headers too large, request too slow), by status.',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly internalErrors = new Counter({
    name: 'gateway_internal_errors_total',
    help: 'Unexpected errors, by where they were caught (upgrade, message, presence, http, uncaught_exception, unhandled_rejection). Any is a bug.',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly tokenRenewals = new Counter({
    name: 'gateway_token_renewals_total',
    help: 'In-band `auth` requests, by outcome (accepted, unauthorized, forbidden, unavailable, conflict).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly presenceRequests = new Counter({
    name: 'gateway_presence_requests_total',
    help: '`presence` requests and the lists the gateway sent again by itself, by outcome (watch, list, forbidden, too-many-watches, unavailable).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  /**
   * Presence changes since the last scrape. One comes with nearly every handshake and close (a socket
   * entering and leaving its user room): a plain count here, added to the counter when it is scraped,
   * costs those less than prom-client's label lookup per change.
   */
  private readonly presenceChangesPending = { joined: 0, left: 0 };
  private readonly presenceChanges = new Counter({
    name: 'gateway_presence_changes_total',
    help: 'Presence changes received from the store (every gateway), by change (joined, left).',
    labelNames: ['change'] as const,
    registers: [this.registry],
    collect: () => {
      const pending = this.presenceChangesPending;
      for (const change of ['joined', 'left'] as const) {
        if (pending[change] === 0) continue;
        this.presenceChanges.inc({ change }, pending[change]);
        pending[change] = 0;
      }
    },
  });

  /** Counts one presence change (gateway_presence_changes_total). */
  presenceChanged(change: 'joined' | 'left'): void {
    this.presenceChangesPending[change]++;
  }

  readonly presenceSyncFailures = new Counter({
    name: 'gateway_presence_sync_failures_total',
    help: 'Writes of this gateway\'s presence to Redis that failed (retried on the next heartbeat).',
    registers: [this.registry],
  });
  readonly presenceGatewaysReaped = new Counter({
    name: 'gateway_presence_gateways_reaped_total',
    help: 'Gateways this one found dead (no presence heartbeat within HEARTBEAT_INTERVAL_MS + HEARTBEAT_TIMEOUT_MS) and whose members it removed.',
    registers: [this.registry],
  });
  readonly tokenExpiryCloses = new Counter({
    name: 'gateway_token_expiry_closes_total',
    help: 'Sockets closed with 4001 because their access token expired.',
    registers: [this.registry],
  });

  /** Records the primary's address (the gauge holds one address at a time); a change after the first is a failover. */
  primaryIs(address: string): void {
    const previous = this.currentPrimary;
    if (previous === address) return;
    if (previous !== undefined) {
      this.redisPrimary.remove({ address: previous });
      this.redisFailovers.inc();
    }
    this.redisPrimary.set({ address }, 1);
    this.currentPrimary = address;
  }

  private currentPrimary: string | undefined;

  constructor(connectionsByRole: () => ReadonlyMap<Role, number>) {
    new Gauge({
      name: 'gateway_connections',
      help: 'Open WebSocket connections, by role.',
      labelNames: ['role'] as const,
      registers: [this.registry],
      // Read at scrape time from the registry, which keeps the counts anyway: nothing on the hot path.
      collect() {
        this.reset();
        for (const [role, count] of connectionsByRole()) this.set({ role }, count);
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }
}
