/**
 * The one way the gateway connects to Redis (node-redis), for every user of it: the bus's writer
 * and reader, login sessions, payments. The target is either one server (`REDIS_URL`) or whatever
 * primary the Sentinels name (`REDIS_SENTINELS`, node-redis's own Sentinel client, which follows a
 * failover by itself).
 *
 * With `minReplicasAck` > 0, nothing this gateway writes or reads is trusted until that many
 * replicas hold it: a write runs with `WAIT` on the same connection (an unacknowledged write is
 * a 503, `NotReplicated`), and what a reader read is confirmed the same way by a write after it
 * (the fence) and a `WAIT`. So no client is shown an event, and no publisher a 202, that a
 * failover to a replica could take back (docs/architecture.md, "Redis Sentinel").
 */
import { createHash } from 'node:crypto';
import { createClient, createSentinel, MultiErrorReply, type RedisClientType, type RedisSentinelType } from 'redis';
import type { GatewayConfig } from '../config.ts';

export interface RedisNodeAddress {
  readonly host: string;
  readonly port: number;
}

export type RedisTarget =
  | { readonly kind: 'url'; readonly url: string; readonly password?: string }
  | {
      readonly kind: 'sentinel';
      readonly sentinels: readonly RedisNodeAddress[];
      /** The name the Sentinels monitor the primary under. */
      readonly master: string;
      /** For the data nodes (the Sentinels themselves are reached without one). */
      readonly password?: string;
      readonly tls: boolean;
    };

export interface RedisSettings {
  readonly target: RedisTarget;
  /** Replicas that must hold a write (and anything read) before the gateway relies on it; 0: none. */
  readonly minReplicasAck: number;
  /** How long a `WAIT` for them may take before the write is refused. */
  readonly waitTimeoutMs: number;
}

// RESP2 replies (arrays), whatever node-redis's type defaults say.
type Client = RedisClientType<{}, {}, {}, 2, {}>;
type Sentinel = RedisSentinelType<{}, {}, {}, 2, {}>;
type SentinelLease = Awaited<ReturnType<Sentinel['acquire']>>;
export type NativeRedisClient = Client | Sentinel;

/** Where Redis is and what it must acknowledge, from the configuration; undefined without Redis. */
export function redisSettingsOf(config: GatewayConfig): RedisSettings | undefined {
  const password = config.redisPassword === undefined ? {} : { password: config.redisPassword };
  const common = { minReplicasAck: config.redisMinReplicasAck, waitTimeoutMs: config.redisWaitTimeoutMs };
  if (config.redisSentinels.length > 0) {
    return { target: { kind: 'sentinel', sentinels: config.redisSentinels, master: config.redisSentinelMaster, tls: config.redisTls, ...password }, ...common };
  }
  return config.redisUrl === undefined ? undefined : { target: { kind: 'url', url: config.redisUrl, ...password }, ...common };
}

/** The commands the gateway runs outside pipelines: reads (writes go through `write`). */
export type RedisCommands = Pick<
  Client,
  'get' | 'mGet' | 'hGet' | 'sMembers' | 'exists' | 'zCard' | 'zRange' | 'xTrim' | 'info'
>;

/** A write Redis applied that too few replicas acknowledged in time: rendered as 503, retry. */
export class NotReplicated extends Error {
  override readonly name = 'NotReplicated';
  readonly status = 503;
  readonly expose = true;
}

export interface ConnectionOptions {
  /** For logs and metrics: `bus-writer`, `bus-reader`, `sessions`, … */
  readonly name: string;
  /**
   * Refuse commands while disconnected instead of queueing them in this process (where a crash
   * would lose them): callers answer 503 at once.
   */
  readonly failFast: boolean;
  /**
   * Connections that run pipelines side by side (default 1). A `WAIT` holds its connection until
   * the replicas answer, so a writer that waits for them needs several to publish concurrently.
   */
  readonly poolSize?: number;
}

export interface ConnectionEvents {
  /** Every error of the connection (it reconnects by itself). */
  error?(error: Error): void;
  ready?(): void;
  /** The primary changed (Sentinel mode): its new address. */
  primaryChanged?(address: string): void;
  /** Too few replicas acknowledged a write or a read in time. */
  notReplicated?(): void;
}

/** A pipelined command: its arguments, as Redis takes them. */
export type RawCommand = readonly string[];

/** Reconnect after 50 ms, doubling up to 2 s, for as long as it takes. */
const reconnectStrategy = (retries: number): number => Math.min(50 * 2 ** retries, 2000);

export class RedisConnection {
  /** One client per pooled connection (`url`), or one lease of each of the Sentinel client's connections. */
  private readonly clients: Client[] = [];
  private leases: SentinelLease[] = [];
  private nextClient = 0;
  private readonly sentinel: Sentinel | undefined;
  private currentPrimary: string | undefined;
  private readonly fenceKey = 'realtime:fence';

  constructor(
    readonly settings: RedisSettings,
    readonly options: ConnectionOptions,
    private readonly events: ConnectionEvents = {},
  ) {
    const { target } = settings;
    if (target.kind === 'url') {
      for (let i = 0; i < (options.poolSize ?? 1); i++) {
        const client = nodeClient(target, options.failFast);
        client.on('error', (error: Error) => events.error?.(error));
        if (i === 0) client.on('ready', () => events.ready?.());
        this.clients.push(client);
      }
      this.currentPrimary = new URL(target.url).host;
    } else {
      // One more than the leases taken at connect: the Sentinel client's own commands (`native`) need a free one.
      const sentinel = sentinelClient(target, options.failFast, (options.poolSize ?? 1) + 1);
      watchSentinel(sentinel, events, (address) => (this.currentPrimary = address));
      this.sentinel = sentinel;
    }
  }

  /**
   * The node-redis client itself (one server) or Sentinel client (which follows a failover), for a
   * library that speaks to Redis on its own (the quotas' rate-limiter-flexible).
   */
  get native(): NativeRedisClient {
    return (this.clients[0] ?? this.sentinel) as NativeRedisClient;
  }

  /** Reads outside pipelines, on the pool's first connection (connected first). */
  get commands(): RedisCommands {
    return (this.clients[0] ?? this.leases[0]) as RedisCommands;
  }

  /** `host:port` of the primary this connection writes to, as far as it knows. */
  get primary(): string | undefined {
    return this.currentPrimary;
  }

  async connect(): Promise<void> {
    await Promise.all(this.clients.map((client) => client.connect()));
    if (this.sentinel) {
      await this.sentinel.connect();
      // Each lease names one of the client's connections to the primary, for good: acquiring one
      // per pipeline would cost ~25 ms (node-redis builds a client object for every lease).
      this.leases = await Promise.all(Array.from({ length: this.options.poolSize ?? 1 }, () => (this.sentinel as Sentinel).acquire()));
    }
  }

  destroy(): void {
    for (const client of this.clients) client.destroy();
    void this.sentinel?.destroy().catch(() => undefined);
  }

  /**
   * Runs `script` (a write) and, when replicas must acknowledge, `WAIT` right after it on the same
   * connection. Throws NotReplicated when too few did in time; the script's effect stays on the
   * primary, so a retry must be idempotent (the bus's idempotency key, the stores' scripts).
   */
  async write(script: string, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const [reply] = await this.confirmed([scriptCall(script, keys, args)], 'write');
    return reply;
  }

  /**
   * Runs read-only `commands` in one pipeline and, when replicas must acknowledge, a fence write
   * and `WAIT` after them on the same connection: once acknowledged, everything they read was
   * written before the fence, so the replicas hold it too. Throws NotReplicated otherwise.
   */
  async read(commands: readonly RawCommand[]): Promise<unknown[]> {
    return this.confirmed(commands, 'read');
  }

  /** `EVALSHA_RO` of a read-only script, confirmed like `read`. */
  async readScript(script: string, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const [reply] = await this.read([scriptCall(script, keys, args, true)]);
    return reply;
  }

  private async confirmed(commands: readonly RawCommand[], kind: 'write' | 'read'): Promise<unknown[]> {
    const { minReplicasAck, waitTimeoutMs } = this.settings;
    const tail: RawCommand[] =
      minReplicasAck === 0
        ? []
        : [...(kind === 'read' ? [['SET', this.fenceKey, '1', 'PX', '60000']] : []), ['WAIT', String(minReplicasAck), String(waitTimeoutMs)]];
    let replies = await this.pipeline([...commands, ...tail]).catch((error: unknown) => this.retryUnloaded(error, commands, tail));
    if (minReplicasAck > 0) {
      const acknowledged = Number(replies.at(-1));
      if (!(acknowledged >= minReplicasAck)) {
        this.events.notReplicated?.();
        throw new NotReplicated(`${acknowledged} of ${minReplicasAck} replicas acknowledged within ${waitTimeoutMs} ms`);
      }
      replies = replies.slice(0, commands.length);
    }
    return replies;
  }

  /** A script this node has not cached (a new primary, a restarted one): the pipeline again, with the script's source. */
  private async retryUnloaded(error: unknown, commands: readonly RawCommand[], tail: readonly RawCommand[]): Promise<unknown[]> {
    const errors = error instanceof MultiErrorReply ? [...error.errors()] : [error as Error];
    if (!errors.some((reply) => reply?.message?.startsWith('NOSCRIPT'))) throw error;
    return this.pipeline([...commands.map(withSource), ...tail]);
  }

  /** Runs `commands` back to back on one connection of the pool (so a WAIT covers the writes before it). */
  private async pipeline(commands: readonly RawCommand[]): Promise<unknown[]> {
    const turn = this.nextClient++;
    if (this.clients.length > 0) {
      const client = this.clients[turn % this.clients.length] as Client;
      // node-redis queues a pipeline while disconnected even without its offline queue.
      if (this.options.failFast && !client.isReady) throw new Error('the connection to Redis is not ready');
      const multi = client.multi();
      for (const command of commands) multi.addCommand([...command]);
      return (await multi.execAsPipeline()) as unknown[];
    }
    const lease = this.leases[turn % this.leases.length];
    if (lease === undefined) throw new Error('not connected to Redis');
    const multi = lease.multi();
    for (const command of commands) multi.addCommand(false, [...command]);
    return (await multi.execAsPipeline()) as unknown[];
  }
}

/**
 * A connection that only listens to Pub/Sub channels (presence changes), to the same Redis as
 * `RedisConnection`: one server, or the primary the Sentinels name (node-redis subscribes again
 * on the new primary after a failover). Messages published while it was away are gone: `ready`
 * after the first, and `primaryChanged`, tell the owner to catch up another way.
 */
export class RedisSubscriber {
  private readonly client: Client | Sentinel;

  constructor(settings: RedisSettings, events: ConnectionEvents = {}) {
    const { target } = settings;
    if (target.kind === 'url') {
      const client = nodeClient(target, false);
      client.on('error', (error: Error) => events.error?.(error));
      client.on('ready', () => events.ready?.());
      this.client = client;
    } else {
      const sentinel = sentinelClient(target, false, 1);
      watchSentinel(sentinel, events, () => undefined);
      this.client = sentinel;
    }
  }

  async connect(): Promise<void> {
    await this.client.connect();
  }

  async subscribe(channel: string, listener: (message: string) => void): Promise<void> {
    await this.client.subscribe(channel, listener);
  }

  destroy(): void {
    if ('acquire' in this.client) void this.client.destroy().catch(() => undefined);
    else this.client.destroy();
  }
}

function nodeClient(target: Extract<RedisTarget, { kind: 'url' }>, failFast: boolean): Client {
  return createClient({
    url: target.url,
    ...(target.password !== undefined && { password: target.password }),
    disableOfflineQueue: failFast,
    socket: { reconnectStrategy },
    RESP: 2,
  });
}

function sentinelClient(target: Extract<RedisTarget, { kind: 'sentinel' }>, failFast: boolean, masterPoolSize: number): Sentinel {
  return createSentinel({
    name: target.master,
    sentinelRootNodes: target.sentinels.map(({ host, port }) => ({ host, port })),
    nodeClientOptions: {
      ...(target.password !== undefined && { password: target.password }),
      disableOfflineQueue: failFast,
      socket: { reconnectStrategy, ...(target.tls && { tls: true as const }) },
    },
    // A command that failed is not sent again by the client: a write that may have landed is
    // the caller's to retry (with an idempotency key), and a 503 beats a request left waiting.
    maxCommandRediscovers: 0,
    // Ask the Sentinels every second too, not only when their `+switch-master` message arrives:
    // under load a missed message left a publisher without a primary for 14 s (the 10 s default).
    scanInterval: 1000,
    masterPoolSize,
    RESP: 2,
  });
}

/** Reports a Sentinel client's errors, readiness and primary changes. */
function watchSentinel(sentinel: Sentinel, events: ConnectionEvents, primaryIs: (address: string) => void): void {
  sentinel.on('error', (error: unknown) => events.error?.(error instanceof Error ? error : new Error(String(error))));
  sentinel.on('ready', () => events.ready?.());
  sentinel.on('topology-change', (event: { type: string; node?: RedisNodeAddress }) => {
    if (event.type !== 'MASTER_CHANGE' || event.node === undefined) return;
    const address = `${event.node.host}:${event.node.port}`;
    primaryIs(address);
    events.primaryChanged?.(address);
  });
}

/** Scripts by their SHA1 and back, to send the source again where a node has not cached it. */
const sources = new Map<string, string>();
const hashes = new Map<string, string>();

function scriptCall(script: string, keys: readonly string[], args: readonly string[], readOnly = false): RawCommand {
  let sha = hashes.get(script);
  if (sha === undefined) {
    sha = createHash('sha1').update(script).digest('hex');
    hashes.set(script, sha);
    sources.set(sha, script);
  }
  return [readOnly ? 'EVALSHA_RO' : 'EVALSHA', sha, String(keys.length), ...keys, ...args];
}

function withSource(command: RawCommand): RawCommand {
  const [name, sha, ...rest] = command;
  if (name !== 'EVALSHA' && name !== 'EVALSHA_RO') return command;
  return [name === 'EVALSHA' ? 'EVAL' : 'EVAL_RO', sources.get(sha as string) as string, ...rest];
}
