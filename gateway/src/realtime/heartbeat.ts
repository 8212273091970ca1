/**
 * Protocol-level heartbeat for every socket from one interval and one timeout per round,
 * rather than timers per socket: ping everyone, then terminate whoever has not answered
 * (a pong or any message) within the timeout.
 */
import type { Connection } from './connection.ts';

export interface HeartbeatOptions {
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

export class Heartbeat {
  private interval: NodeJS.Timeout | undefined;
  private deadline: NodeJS.Timeout | undefined;

  constructor(
    private readonly connections: Iterable<Connection>,
    private readonly options: HeartbeatOptions,
    private readonly onDead: (connection: Connection) => void,
  ) {}

  start(): void {
    this.interval ??= setInterval(() => this.pingAll(), this.options.intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.interval);
    clearTimeout(this.deadline);
    this.interval = this.deadline = undefined;
  }

  private pingAll(): void {
    for (const connection of this.connections) {
      connection.alive = false;
      connection.socket.ping();
    }
    clearTimeout(this.deadline);
    this.deadline = setTimeout(() => this.reapSilent(), this.options.timeoutMs).unref();
  }

  private reapSilent(): void {
    for (const connection of this.connections) {
      if (!connection.alive) this.onDead(connection);
    }
  }
}
