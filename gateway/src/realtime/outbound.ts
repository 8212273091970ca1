/**
 * The one way bytes reach a client: broadcasts, replies, errors, replays and heartbeat pings all
 * write complete frames here, under one bound (`WS_MAX_BUFFERED_BYTES`) with one answer when it is
 * passed: the connection is reported as a slow consumer (the hub closes it with 4008).
 *
 * The backlog is the TCP socket's write queue (`writableLength`, corked frames included), read only
 * when `write` says it has reached the socket's high-water mark (16 KiB): with a bound at or above
 * that mark, the check is exact at no cost per write; a smaller bound is checked after every write.
 * A backlog therefore never exceeds the bound by more than the frame that crossed it. `ws` stops
 * writing to a closing socket, and destroys it when the close handshake cannot complete, which
 * releases its backlog.
 */
import { getDefaultHighWaterMark } from 'node:stream';
import { WebSocket } from 'ws';
import type { ClientSocket, Connection, FrameSink } from './connection.ts';
import { rawSocket, textFrame } from './frame.ts';

const { OPEN } = WebSocket;

export class Outbound {
  /** The bound is below the high-water mark, so `write` returning true does not clear a socket. */
  private readonly checkEveryWrite: boolean;

  constructor(
    readonly maxBufferedBytes: number,
    private readonly onSlowConsumer: (connection: Connection) => void,
  ) {
    this.checkEveryWrite = maxBufferedBytes < getDefaultHighWaterMark(false);
  }

  /**
   * Writes one complete frame to the TCP socket of an open socket (the broadcast loop's call, which
   * has checked both). False when the backlog has passed the bound: the connection was reported,
   * write nothing more to it.
   */
  write(socket: ClientSocket, raw: FrameSink, frame: Buffer): boolean {
    if ((!raw.write(frame) || this.checkEveryWrite) && raw.writableLength > this.maxBufferedBytes) {
      this.onSlowConsumer(socket.connection);
      return false;
    }
    return true;
  }

  /** Writes a frame to a connection; false when it is not open or was just found too slow. */
  send(connection: Connection, frame: Buffer): boolean {
    const socket = connection.socket;
    if (socket.readyState !== OPEN) return false;
    const raw = rawSocket(socket);
    return raw !== undefined && this.write(socket, raw, frame);
  }

  /** Frames `text` as one text message and sends it (see `send`). */
  sendText(connection: Connection, text: string): boolean {
    return this.send(connection, textFrame(text));
  }

  /**
   * Bytes kept for a connection outside its socket (live events held while it replays) count
   * against the same bound as its backlog. False, with the connection reported, when together
   * they pass it.
   */
  holds(connection: Connection, heldBytes: number): boolean {
    const backlog = rawSocket(connection.socket)?.writableLength ?? 0;
    if (heldBytes + backlog <= this.maxBufferedBytes) return true;
    this.onSlowConsumer(connection);
    return false;
  }
}
