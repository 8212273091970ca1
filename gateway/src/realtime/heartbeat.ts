/**
 * Protocol-level heartbeat for every socket from one interval and one timeout per round,
 * rather than timers per socket: ping everyone, then terminate whoever has not answered with a
 * pong within the timeout. Only a pong counts: a client's own messages do not show that it reads,
 * and one that never reads must not keep its socket (and its backlog) alive by writing. A pong
 * also shows the backlog before the ping has drained, since the ping was queued behind it.
 *
 * A round pings in slices spread over the first half of the interval, and each slice gets its own
 * deadline: pinging 20,000 sockets at once would stall every broadcast for a few hundred
 * milliseconds, and so would their 20,000 pongs arriving together. A few dozen timers a round,
 * still none per socket. Each ping is one pre-built two-byte frame written through the bounded
 * send path every frame takes (outbound.ts; frame.ts says why raw writes are safe).
 */
import { WebSocket } from 'ws';
import type { Connection } from './connection.ts';
import type { Outbound } from './outbound.ts';

export interface HeartbeatOptions {
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/** FIN + opcode 0x9 (ping), unmasked, empty payload. */
const PING_FRAME = Buffer.from([0x89, 0x00]);
/** Sockets pinged together (≈ 1 ms of work). */
const PING_SLICE = 256;

export class Heartbeat {
  private interval: NodeJS.Timeout | undefined;
  /** Increments each round; a slice of an older round (or after stop) does nothing. */
  private round = 0;

  constructor(
    private readonly connections: Iterable<Connection> & { readonly size: number },
    private readonly options: HeartbeatOptions,
    private readonly outbound: Outbound,
    private readonly onDead: (connection: Connection) => void,
  ) {}

  start(): void {
    this.interval ??= setInterval(() => this.pingAll(), this.options.intervalMs).unref();
  }

  stop(): void {
    this.round++;
    clearInterval(this.interval);
    this.interval = undefined;
  }

  private pingAll(): void {
    const round = ++this.round;
    const pending = this.connections[Symbol.iterator]();
    const slices = Math.max(1, Math.ceil(this.connections.size / PING_SLICE));
    // Every slice's deadline must pass before the next round pings the same sockets again.
    const spreadMs = Math.min(this.options.intervalMs / 2, this.options.intervalMs - this.options.timeoutMs);
    const spacingMs = Math.floor(spreadMs / slices);
    const slice = (): void => {
      if (round !== this.round) return;
      const pinged: Connection[] = [];
      for (let next = pending.next(); ; next = pending.next()) {
        if (next.done) break;
        if (this.ping(next.value)) pinged.push(next.value);
        if (pinged.length === PING_SLICE) break;
      }
      if (pinged.length === 0) return;
      setTimeout(() => this.reap(pinged), this.options.timeoutMs).unref();
      setTimeout(slice, spacingMs).unref();
    };
    slice();
  }

  private reap(pinged: readonly Connection[]): void {
    if (this.interval === undefined) return; // stopped
    for (const connection of pinged) {
      if (!connection.alive && !connection.released) this.onDead(connection);
    }
  }

  private ping(connection: Connection): boolean {
    if (connection.socket.readyState !== WebSocket.OPEN) return false;
    connection.alive = false;
    return this.outbound.send(connection, PING_FRAME);
  }
}
