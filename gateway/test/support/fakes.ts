/**
 * Fakes for the fast tier: a client socket (connection.ts's `ClientSocket`) whose TCP side records
 * the frames the core writes and can stop reading, and the pieces a hub needs around it. No port,
 * no real timer: unit tests drive time with node's `mock.timers`.
 */
import { EventEmitter } from 'node:events';
import jwt from 'jsonwebtoken';
import { WebSocket } from 'ws';
import { parseServerMessage, type Role, type ServerMessage } from '@payments-system/protocol';
import type { RoomAccessRules } from '../../src/auth/room-policy.ts';
import type { Claims, TokenVerifier } from '../../src/auth/tokens.ts';
import type { Bus } from '../../src/bus/bus.ts';
import { InMemoryBus } from '../../src/bus/in-memory-bus.ts';
import { defaultConfig, type GatewayConfig } from '../../src/config.ts';
import { InMemoryPresenceStore } from '../../src/presence/in-memory-presence-store.ts';
import type { PresenceStore } from '../../src/presence/presence-store.ts';
import { RealtimeHub } from '../../src/realtime/hub.ts';
import { Connection, type ClientSocket, type ConnectionLimits, type ConnectionOwner, type FrameSink } from '../../src/realtime/connection.ts';
import { createLogger } from '../../src/logger.ts';
import { GatewayMetrics } from '../../src/metrics.ts';

const { OPEN, CLOSING, CLOSED } = WebSocket;

/** The TCP side of a fake socket: keeps every frame; a peer that stops reading makes a backlog. */
export class FakeStream extends EventEmitter implements FrameSink {
  readonly frames: Buffer[] = [];
  writableLength = 0;
  writableCorked = 0;
  /** Writes stay queued (the peer stopped reading) until `drain()`. */
  stalled = false;

  constructor(readonly highWaterMark = 16 * 1024) {
    super();
  }

  get writableNeedDrain(): boolean {
    return this.writableLength >= this.highWaterMark;
  }

  write(frame: Buffer): boolean {
    this.frames.push(frame);
    if (this.stalled) this.writableLength += frame.length;
    return this.writableLength < this.highWaterMark;
  }

  cork(): void {
    this.writableCorked++;
  }

  uncork(): void {
    this.writableCorked = Math.max(0, this.writableCorked - 1);
  }

  /** The peer reads again and takes the whole backlog. */
  drain(): void {
    const needed = this.writableNeedDrain;
    this.stalled = false;
    this.writableLength = 0;
    if (needed) this.emit('drain');
  }
}

/** A frame as the client would read it: a server message, or a protocol ping. */
export type Received = ServerMessage | 'ping';

export class FakeSocket extends EventEmitter implements ClientSocket {
  connection!: Connection;
  readyState: number = OPEN;
  readonly _socket: FakeStream;
  /** The close the core started, if any. */
  closedWith: { code: number; reason: string } | undefined;
  terminated = false;

  constructor(stream = new FakeStream()) {
    super();
    this._socket = stream;
  }

  close(code: number, reason: string): void {
    if (this.readyState !== OPEN) return;
    this.readyState = CLOSING;
    this.closedWith = { code, reason };
  }

  /** The close code the core started closing with (a call, so that assertions before it do not narrow it). */
  closeCode(): number | undefined {
    return this.closedWith?.code;
  }

  terminate(): void {
    this.terminated = true;
    this.readyState = CLOSED;
  }

  /** Everything written so far, decoded (see `decodeFrames`). */
  received(): Received[] {
    return this._socket.frames.flatMap(decodeFrames);
  }

  /** The server messages written so far, without pings. */
  messages(): ServerMessage[] {
    return this.received().filter((frame): frame is ServerMessage => frame !== 'ping');
  }
}

/** Decodes the unmasked frames the gateway writes (text messages and pings; one buffer may hold several). */
export function decodeFrames(buffer: Buffer): Received[] {
  const out: Received[] = [];
  for (let offset = 0; offset < buffer.length; ) {
    const opcode = buffer[offset]! & 0x0f;
    let length = buffer[offset + 1]! & 0x7f;
    let start = offset + 2;
    if (length === 126) {
      length = buffer.readUInt16BE(offset + 2);
      start = offset + 4;
    } else if (length === 127) {
      length = Number(buffer.readBigUInt64BE(offset + 2));
      start = offset + 10;
    }
    const payload = buffer.subarray(start, start + length);
    if (opcode === 0x9) out.push('ping');
    else if (opcode === 0x1) {
      const parsed = parseServerMessage(payload.toString('utf8'));
      if (!parsed.ok) throw new Error(`the gateway wrote an invalid message: ${parsed.error}`);
      out.push(parsed.value);
    } else throw new Error(`unexpected opcode ${opcode}`);
    offset = start + length;
  }
  return out;
}

export const UNIT_LIMITS: ConnectionLimits = {
  messages: { perSecond: 20, burst: 40 },
  resumes: { perSecond: 6 / 60, burst: 3 },
};

/** A connection on a fake socket, as the hub makes them (its owner does nothing). */
export function fakeConnection(
  options: { userId?: string; role?: Role; exp?: number; stream?: FakeStream } = {},
): Connection & { readonly socket: FakeSocket } {
  const socket = new FakeSocket(options.stream);
  const claims: Claims = {
    userId: options.userId ?? 'alice',
    email: `${options.userId ?? 'alice'}@demo.test`,
    role: options.role ?? 'CUSTOMER',
    exp: options.exp ?? Math.floor(Date.now() / 1000) + 3600,
  };
  const connection = new Connection(IDLE_OWNER, `c-${++sequence}`, socket, claims);
  socket.connection = connection;
  return connection as Connection & { readonly socket: FakeSocket };
}
let sequence = 0;

const IDLE_OWNER: ConnectionOwner = { logger: createLogger('silent'), handleFrame() {}, release() {} };

/** Real metrics and a silent logger: what the core's contexts need besides the socket. */
export function quietServices(): { readonly metrics: GatewayMetrics; readonly logger: ReturnType<typeof createLogger> } {
  return { metrics: new GatewayMetrics(() => new Map()), logger: createLogger('silent') };
}

/** A counter's value in a registry (0 when never incremented), for assertions on metrics. */
export async function counterValue(metrics: GatewayMetrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const match = values.find((value) => Object.entries(labels).every(([key, wanted]) => String(value.labels[key]) === wanted));
  return match?.value ?? 0;
}

/**
 * An HS256 access token whose `iat` and `exp` follow the (mocked) clock: `signAccessToken` would take the
 * real time, which mock timers do not move.
 */
export function tokenAt(
  secret: string,
  subject: { userId: string; role: Role; sessionId?: string },
  { iat = Math.floor(Date.now() / 1000), ttlSeconds = 300 }: { iat?: number; ttlSeconds?: number } = {},
): string {
  const { sessionId, ...claims } = subject;
  const payload = { ...claims, email: `${subject.userId}@demo.test`, iat, exp: iat + ttlSeconds, ...(sessionId !== undefined && { sid: sessionId }) };
  return jwt.sign(payload, secret, { algorithm: 'HS256' });
}

export interface UnitHubOptions {
  readonly config?: Partial<GatewayConfig>;
  readonly verifier?: Pick<TokenVerifier, 'authenticate'>;
  readonly presence?: PresenceStore;
  readonly roomAccess?: RoomAccessRules;
  readonly bus?: Bus;
}

/**
 * A real hub on fake sockets, its clock `Date.now` (mock timers move it): the heartbeat is an hour away
 * unless the test configures one. `accept` opens a socket with the claims given; `send` is a client frame.
 */
export function unitHub(options: UnitHubOptions = {}) {
  const { metrics, logger } = quietServices();
  const config = defaultConfig({ jwtSecret: 'x'.repeat(32), heartbeatIntervalMs: 3_600_000, heartbeatTimeoutMs: 60_000, ...options.config });
  const unused = (): never => {
    throw new Error('no verifier given to unitHub');
  };
  const hub = new RealtimeHub(
    config,
    logger,
    metrics,
    {
      roomAccess: options.roomAccess ?? {},
      bus: options.bus ?? new InMemoryBus(),
      verifier: options.verifier ?? { authenticate: unused },
      presence: options.presence ?? new InMemoryPresenceStore(),
    },
    () => Date.now(),
  );
  // The in-memory store starts in the same turn (a store that needs a connection is the test's to start).
  void hub.presence.start();
  const accept = (claims: Partial<Claims> & { userId: string }, since?: string): FakeSocket => {
    const socket = new FakeSocket();
    const full: Claims = { email: `${claims.userId}@demo.test`, role: 'CUSTOMER', exp: Math.floor(Date.now() / 1000) + 3600, ...claims };
    hub.accept(socket, full, since);
    return socket;
  };
  const send = (socket: FakeSocket, message: unknown): void => {
    socket.emit('message', Buffer.from(JSON.stringify(message)), false);
  };
  /** The socket closes (its close handshake done): the hub releases it. */
  const close = (socket: FakeSocket, code = 1000): void => {
    socket.readyState = CLOSED;
    socket.emit('close', code);
  };
  return { hub, metrics, config, accept, send, close };
}
