/**
 * Protocol-level heartbeat for every socket from one interval and one timeout per round,
 * rather than timers per socket: ping everyone, then terminate whoever has not answered
 * (a pong or any message) within the timeout.
 *
 * A round pings in slices, yielding to the event loop between them: pinging 20,000 sockets in
 * one loop would stall every broadcast for a few hundred milliseconds. Each ping is one
 * pre-built two-byte frame written straight to the TCP socket (see frame.ts for why that is safe).
 */
import { WebSocket } from 'ws';
import type { Connection } from './connection.ts';
import { rawSocket } from './frame.ts';

export interface HeartbeatOptions {
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/** FIN + opcode 0x9 (ping), unmasked, empty payload. */
const PING_FRAME = Buffer.from([0x89, 0x00]);
/** Sockets pinged per turn of the event loop (≈ 1–3 ms of work). */
const PING_SLICE = 256;

export class Heartbeat {
  private interval: NodeJS.Timeout | undefined;
  private deadline: NodeJS.Timeout | undefined;
  /** Increments each round; a slice of an older round (or after stop) does nothing. */
  private round = 0;

  constructor(
    private readonly connections: Iterable<Connection>,
    private readonly options: HeartbeatOptions,
    private readonly onDead: (connection: Connection) => void,
  ) {}

  start(): void {
    this.interval ??= setInterval(() => this.pingAll(), this.options.intervalMs).unref();
  }

  stop(): void {
    this.round++;
    clearInterval(this.interval);
    clearTimeout(this.deadline);
    this.interval = this.deadline = undefined;
  }

  private pingAll(): void {
    const round = ++this.round;
    clearTimeout(this.deadline);
    const pending = this.connections[Symbol.iterator]();
    const slice = (): void => {
      if (round !== this.round) return;
      for (let i = 0; i < PING_SLICE; i++) {
        const next = pending.next();
        if (next.done) {
          this.deadline = setTimeout(() => this.reapSilent(), this.options.timeoutMs).unref();
          return;
        }
        ping(next.value);
      }
      setImmediate(slice);
    };
    slice();
  }

  private reapSilent(): void {
    for (const connection of this.connections) {
      if (!connection.alive) this.onDead(connection);
    }
  }
}

function ping(connection: Connection): void {
  const socket = connection.socket;
  if (socket.readyState !== WebSocket.OPEN) return;
  connection.alive = false;
  rawSocket(socket)?.write(PING_FRAME);
}
