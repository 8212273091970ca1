/**
 * Redis with no single point of failure, as real processes on free loopback ports: Debian's
 * `redis-server` as a primary and replicas (password, append-only with fsync always, no stale
 * reads while a replica syncs) and three `redis-sentinel`s (quorum 2, a node is down after 1 s
 * without an answer). Nodes can be killed and started again on their ports with their data, as a
 * crashed server comes back. Everything is stopped after the test file.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from 'redis';
import { startRedis, type RedisServer } from '../bus/redis-server.ts';

const SENTINEL = process.env['REDIS_SENTINEL_BIN'] ?? '/usr/bin/redis-sentinel';
export const MASTER_NAME = 'mymaster';

export interface SentinelStack {
  readonly password: string;
  /** The data nodes: [0] starts as the primary. */
  readonly nodes: readonly RedisServer[];
  readonly sentinels: readonly RedisServer[];
  /** `host:port,…` of the sentinels, as REDIS_SENTINELS takes them. */
  readonly sentinelList: string;
  /** The data node the sentinels name as primary now. */
  primary(): Promise<RedisServer>;
  /** Resolves once the sentinels name a primary other than `previous`, and it runs as one. */
  failoverFrom(previous: RedisServer, timeoutMs?: number): Promise<RedisServer>;
  /**
   * Resolves once `node` runs as a replica with its link to the primary up (a rejoined old primary), and every
   * sentinel lists it as a healthy replica of that primary: until then a failover can neither promote it nor point
   * it at the new primary at once (the sentinels learn of replicas from INFO, every 10 s).
   */
  replicating(node: RedisServer, timeoutMs?: number): Promise<void>;
  /** `INFO replication` of a node, as fields. */
  replication(node: RedisServer): Promise<Record<string, string>>;
}

export interface SentinelStackOptions {
  readonly replicas?: number;
  readonly downAfterMs?: number;
}

async function command(port: number, password: string | undefined, args: string[]): Promise<unknown> {
  const client = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false }, ...(password && { password }) });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await client.sendCommand(args);
  } finally {
    client.destroy();
  }
}

/** A reply of field/value pairs (a flat array, or a map as node-redis may give it) as an object. */
function asFields(reply: unknown): Record<string, string> {
  if (!Array.isArray(reply)) return reply as Record<string, string>;
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < reply.length; i += 2) fields[String(reply[i])] = String(reply[i + 1]);
  return fields;
}

const until = async <T>(probe: () => Promise<T | undefined>, what: string, timeoutMs: number): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

export async function startSentinelStack(options: SentinelStackOptions = {}): Promise<SentinelStack> {
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const auth = ['--requirepass', password, '--masterauth', password];
  // A replica that lost its primary, or is syncing, answers errors rather than stale data; a restarted
  // node that joins as a replica starts its sync at once.
  const replicaSafety = ['--replica-serve-stale-data', 'no', '--repl-diskless-sync-delay', '0'];
  const primary = await startRedis({ args: [...auth, ...replicaSafety] });
  const nodes = [primary];
  for (let i = 0; i < (options.replicas ?? 2); i++) {
    nodes.push(await startRedis({ args: [...auth, ...replicaSafety, '--replicaof', '127.0.0.1', String(primary.port)] }));
  }
  const sentinels: RedisServer[] = [];
  for (let i = 0; i < 3; i++) {
    sentinels.push(
      await startRedis({
        program: {
          bin: SENTINEL,
          args: (port, dir) => {
            // A sentinel rewrites its own configuration file: one each, written once (a restart keeps it).
            const file = join(dir, 'sentinel.conf');
            if (!existsSync(file)) writeFileSync(
              file,
              [
                `port ${port}`,
                'bind 127.0.0.1',
                `dir ${dir}`,
                `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${primary.port} 2`,
                `sentinel auth-pass ${MASTER_NAME} ${password}`,
                `sentinel down-after-milliseconds ${MASTER_NAME} ${options.downAfterMs ?? 1000}`,
                `sentinel failover-timeout ${MASTER_NAME} 5000`,
                `sentinel parallel-syncs ${MASTER_NAME} 2`,
                '',
              ].join('\n'),
            );
            return [file, '--loglevel', 'warning'];
          },
        },
      }),
    );
  }
  const byPort = (port: number) => nodes.find((node) => node.port === port);
  const named = async (): Promise<RedisServer | undefined> => {
    const [host, port] = (await command(sentinels[0]!.port, undefined, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME])) as [string, string];
    return host === '127.0.0.1' ? byPort(Number(port)) : undefined;
  };
  const replication = async (node: RedisServer) => {
    const text = String(await command(node.port, password, ['INFO', 'replication']));
    return Object.fromEntries(text.split('\r\n').filter((line) => line.includes(':')).map((line) => line.split(':', 2) as [string, string]));
  };
  const stack: SentinelStack = {
    password,
    nodes,
    sentinels,
    sentinelList: sentinels.map((sentinel) => `127.0.0.1:${sentinel.port}`).join(','),
    primary: async () => until(named, 'the sentinels to name a primary', 10_000),
    failoverFrom: (previous, timeoutMs = 20_000) =>
      until(
        async () => {
          const node = await named();
          if (node === undefined || node === previous) return undefined;
          return (await replication(node))['role'] === 'master' ? node : undefined;
        },
        `a failover away from port ${previous.port}`,
        timeoutMs,
      ),
    replicating: (node, timeoutMs = 45_000) =>
      until(
        async () => {
          const info = await replication(node);
          if (info['role'] !== 'slave' || info['master_link_status'] !== 'up') return undefined;
          for (const sentinel of sentinels) {
            const replicas = (await command(sentinel.port, undefined, ['SENTINEL', 'REPLICAS', MASTER_NAME])) as unknown[];
            const seen = replicas.map(asFields).find((replica) => Number(replica['port']) === node.port);
            if (seen?.['flags'] !== 'slave' || seen['master-link-status'] !== 'ok') return undefined;
          }
          return true;
        },
        `port ${node.port} to replicate`,
        timeoutMs,
      ).then(() => undefined),
    replication,
  };
  // Every sentinel knows every replica and the other sentinels before a test may fail anything over.
  await until(
    async () => {
      for (const sentinel of sentinels) {
        const master = asFields(await command(sentinel.port, undefined, ['SENTINEL', 'MASTER', MASTER_NAME]));
        const field = (name: string) => Number(master[name]);
        if (field('num-slaves') < nodes.length - 1 || field('num-other-sentinels') < sentinels.length - 1) return undefined;
      }
      return true;
    },
    "the sentinels to see every replica and each other",
    20_000,
  );
  return stack;
}
