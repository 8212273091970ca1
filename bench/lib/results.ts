/**
 * What one repeat of `npm run bench` measured on one server (bench/run.mjs writes them to
 * latest.json), and what bench/lib/report.mjs makes of them.
 */
import type { Room } from '@payments-system/protocol';
import type { ServerKind } from './harness.mjs';

export interface ConnectResult {
  readonly sockets: number;
  readonly failed: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly serverCpuPerConnectionUs: number;
  readonly serverUserCpuPerConnectionUs: number;
  readonly loadGenCpuPerConnectionUs: number;
  readonly machineBusyCores: number;
}

export interface MemoryResult {
  readonly sockets: number;
  readonly rssEmpty: number;
  readonly rssFull: number;
  readonly bytesPerConnection: number;
  readonly heapBytesPerConnection: number;
  readonly fds: number;
}

export interface PublishResult {
  readonly events: number;
  readonly cpuPerPublishUs: number;
  readonly userCpuPerPublishUs: number;
}

/** One throughput phase on one server: its slices added up. */
export interface ThroughputResult {
  readonly events: number;
  readonly slices: number;
  readonly deliveries: number;
  readonly lost: number;
  readonly seconds: number;
  readonly cpuPerDeliveryUs: number;
  readonly userCpuPerDeliveryUs: number;
  readonly loadGenCpuPerDeliveryUs: number;
  readonly deliveriesPerSecond: number;
  readonly serverCores: number;
  readonly machineBusyCores: number;
}

export interface PhaseResult extends ThroughputResult {
  readonly room: Room;
  readonly roomSize: number;
  /** The CPU per delivery minus the publish requests' share. */
  readonly fanOutCpuPerDeliveryUs: number;
}

export interface LatencyResult {
  readonly perSecond: number;
  readonly roomSize: number;
  readonly events: number;
  readonly deliveries: number;
  readonly lost: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly cpuPerDeliveryUs: number;
  readonly serverLoopDelayMaxMs: number;
  readonly machineBusyCores: number;
}

/** Phase (5): the broadcast path with and without presence watchers (the gateway only). */
export interface PresenceResult {
  readonly room: Room;
  readonly roomSize: number;
  readonly watches: number;
  readonly slices: number;
  readonly lost: number;
  readonly cpuPerDeliveryUs: { readonly without: number; readonly with: number };
  readonly slicesUs: { readonly without: readonly number[]; readonly with: readonly number[] };
  readonly ratio: number;
}

/** One server in one repeat. A phase the server did not run (connection-only baselines) is absent. */
export interface RunResult {
  readonly kind: ServerKind;
  readonly repeat: number;
  readonly loadBefore: number;
  loadAfter?: number;
  connect?: ConnectResult;
  memory?: MemoryResult;
  publish?: PublishResult;
  throughput?: Record<string, PhaseResult>;
  latency?: Record<'small' | 'large', LatencyResult>;
  unexpectedCloses?: number;
  presence?: PresenceResult;
}

/** `npm run bench:recovery`'s parameters (bench/recovery.mjs). */
export interface RecoveryParameters {
  readonly clients: number;
  readonly rate: number;
  readonly users: number;
  readonly sharedRate: number;
  readonly workers: number;
  readonly sourceAddresses: number;
  readonly jitterMinMs: number;
  readonly jitterMaxMs: number;
  readonly beforeSeconds: number;
  readonly settleSeconds: number;
  readonly recoveryMaxEvents: number;
}

/** p50, p99 and the largest of a list of durations (ms); undefined when the list is empty. */
export interface Spread {
  readonly p50: number;
  readonly p99: number;
  readonly max: number | undefined;
}

/** What `npm run bench:recovery` found, over every client. */
export interface RecoveryResult {
  readonly clients: number;
  readonly outcomes: Readonly<Record<string, number>>;
  readonly resumedShare: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly outOfOrder: number;
  readonly unexpected: number;
  readonly overlapDropped: number;
  readonly expectedDeliveries: number;
  readonly delivered: number;
  readonly eventsMissedPerClient: number;
  readonly liveMs: Spread;
  readonly handshakeMs: Spread;
  readonly resumeMs: Spread;
  readonly reconnectAttempts: number;
  readonly connectFailures: Readonly<Record<string, number>>;
  readonly published: number;
  readonly publishFailed: number;
  readonly publishedPerSecond: number;
  readonly bCoresStorm: number;
  readonly bCoresPeak: number;
  readonly redisCoresStorm: number;
  readonly redisCoresPeak: number;
  readonly loadgenCoresPeak: number;
  readonly tcp: { readonly listenOverflows: number; readonly listenDrops: number; readonly synRetrans: number };
  readonly resumesOnB: Readonly<Record<string, number>>;
  readonly targetLiveMs: number;
}

/** One sample of the recovery timeline (every 250 ms); `t`: seconds since the kill. */
export interface RecoverySample {
  readonly at: number;
  readonly t: number;
  readonly bCores: number;
  readonly redisCores: number;
  readonly loadgenCores: number;
  readonly bLoopDelayMaxMs: number;
  readonly bAcceptQueue: number;
}

export interface RecoveryReport {
  readonly machine: { cpus: number; model: string | undefined; memGiB: number; node: string; loadAtStart: number; loadAtEnd?: number };
  readonly somaxconn: number;
  readonly parameters: RecoveryParameters;
  readonly result: RecoveryResult;
  readonly timeline: readonly RecoverySample[];
  /** Share of clients live again (`live`) at `t` seconds since the kill. */
  readonly liveCurve: ReadonlyArray<{ readonly t: number; readonly live: number }>;
}
