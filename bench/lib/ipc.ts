/**
 * What the bench's processes say to each other over their IPC channels: for each child program,
 * its commands with their arguments and replies. A parent sends `{ cmd, seq, ...args }`; the child
 * answers `{ seq, ...reply }`, or `{ seq, error }` when the command failed.
 */
import type { Room } from '@payments-system/protocol';

/** A child program's commands: each one's arguments and reply. */
export type Protocol = Record<string, { readonly args: object; readonly reply: object }>;

/** No arguments. */
export type NoArgs = Record<never, never>;

/** A command's arguments after its name: none needed when every argument is optional. */
export type ArgsOf<P extends Protocol, C extends keyof P> = object extends P[C]['args'] ? [args?: P[C]['args']] : [args: P[C]['args']];

/** A command as the child receives it: one member per command, told apart by `cmd`. */
export type Request<P extends Protocol> = { [C in keyof P & string]: { readonly cmd: C; readonly seq: number } & P[C]['args'] }[keyof P & string];

/** A child's answer as the parent receives it. */
export type Reply<P extends Protocol, C extends keyof P> = P[C]['reply'] & { readonly seq: number };

/** What a failed command answers. */
export interface Failure {
  readonly seq: number;
  readonly error: string;
}

/** The server kinds the load generator speaks to; each has its own handshake. */
export type Dialect = 'gateway' | 'bare' | 'bare-jwt' | 'sio';

/** Sockets opened by one `connect`, and why the others failed. */
export interface Connected {
  readonly opened: number;
  readonly failed: number;
  readonly errors: Readonly<Record<string, number>>;
}

/** bench/loadgen/worker.mjs: the load generator of `npm run bench` and `bench:profile`. */
export type LoadGenProtocol = {
  /** Signs the tokens of users `u<from>` … (VENDOR below `vendorBelow`, else CUSTOMER) before any timing. */
  tokens: { args: { secret: string; from: number; count: number; vendorBelow: number }; reply: { ok: true } };
  connect: {
    args: { kind: Dialect; url: string; from: number; count: number; sourceAddresses: readonly string[]; concurrency: number; vendorBelow: number };
    reply: Connected & { ms: number };
  };
  /** Forgets the latency samples and the delivery count; keeps one sample in `sampleEvery`. */
  reset: { args: { sampleEvery?: number }; reply: { ok: true } };
  count: { args: NoArgs; reply: { received: number; open: number; unexpectedCloses: number; closeCodes: Record<string, number> } };
  cpu: { args: NoArgs; reply: { cpuMicros: number } };
  /** Every socket watches (or stops watching) its own user's room. */
  presence: { args: { watch: boolean }; reply: { sent: number; missing: number } };
  /** Publish-to-receive times in ms. */
  latencies: { args: NoArgs; reply: { latencies: number[] } };
  /** Terminates the last `count` sockets opened (all without it). */
  close: { args: { count?: number }; reply: { closed: number } };
};

/** Event ids a recovering worker's clients should have received: per user index, and those of the shared room. */
export interface Expected {
  readonly user: Readonly<Record<number, readonly string[]>>;
  readonly shared: readonly string[];
}

/** One client's recovery, as bench/loadgen/recovering.mjs reports it. */
export interface ClientReport {
  readonly outcome: string;
  readonly lost: number;
  readonly duplicated: number;
  readonly overlapDropped: number;
  readonly outOfOrder: number;
  readonly unexpected: number;
  readonly expected: number;
  readonly received: number;
  readonly closedAt: number | undefined;
  readonly reconnectingAt: number | undefined;
  readonly openedAt: number | undefined;
  readonly liveAt: number | undefined;
  readonly reconnectAttempts: number;
  readonly connectFailures: Readonly<Record<string, number>>;
}

/** bench/loadgen/recovering.mjs: customers that recover like the library, for `npm run bench:recovery`. */
export type RecoveringProtocol = {
  setup: {
    args: {
      secret: string;
      from: number;
      count: number;
      url: string;
      fallbackUrl: string;
      /** `undefined`: the kernel picks the source address. */
      sourceAddresses: ReadonlyArray<string | undefined>;
      jitterMinMs: number;
      jitterMaxMs: number;
    };
    reply: { ok: true };
  };
  connect: { args: { url: string; concurrency: number }; reply: { opened: number; failed: number } };
  /** How many clients lost their socket, when each was live again (ms since the epoch), how many are open and live. */
  progress: { args: NoArgs; reply: { closed: number; live: number[]; open: number } };
  /** Clients that have not yet received the newest event expected for them. */
  lastReceived: { args: Expected; reply: { missing: number } };
  report: { args: Expected; reply: { clients: ClientReport[] } };
  cpu: { args: NoArgs; reply: { cpuMicros: number } };
  stop: { args: NoArgs; reply: { ok: true } };
};

/** bench/recovery/publisher.mts: background traffic through the gateway's Redis bus. */
export type PublisherProtocol = {
  start: { args: { redisUrl: string; rate: number; users: number; sharedRate: number; roomCount: number }; reply: { ok: true } };
  /** Stops publishing; every accepted event's id and room. */
  stop: { args: NoArgs; reply: { accepted: Array<[string, Room]>; failed: number } };
};

/** What the probe preloaded into every server under test is asked (bench/lib/probe.mjs): `gc` runs two full collections. */
export interface ProbeRequest {
  readonly probe: 'gc' | 'stats';
  readonly seq: number;
}

/** The probe's answer to `gc`: whether it could collect (only with --expose-gc). */
export interface GcDone {
  readonly probe: 'gc';
  readonly seq: number;
  readonly gc: boolean;
}

/** The probe's answer to `stats`. */
export interface ServerStats {
  readonly seq: number;
  readonly probe: 'stats';
  /** The longest and the 99th percentile event-loop block since the previous `stats`. */
  readonly loopDelayMaxMs: number;
  readonly loopDelayP99Ms: number;
  /** CPU time (user + system) and its user part, µs, since the process started. */
  readonly cpuMicros: number;
  readonly userMicros: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  /** Open files, or -1 when /proc cannot be read. */
  readonly fds: number;
}
