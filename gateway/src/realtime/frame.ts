/**
 * WebSocket frames built once per broadcast, and the raw writes that put the same bytes on
 * every recipient's TCP socket.
 *
 * `ws` frames each `send()` on its own (a header allocation, a cork, two writes). A broadcast
 * only needs that once: `Sender.frame` (public) builds the header, header and payload become
 * one buffer, and that buffer is written as is to each socket. This is safe because the
 * server runs with perMessageDeflate off, so `ws`'s sender never queues frames of its own
 * (its queue only exists while compressing or reading a Blob); our writes and its control
 * frames (pings, close) reach the TCP socket in call order.
 */
import type { Socket } from 'node:net';
import * as ws from 'ws';
import type { ClientSocket, FrameSink } from './connection.ts';

/** `ws`'s public `Sender.frame` (exported by ws 8, missing from @types/ws). */
interface FrameOptions {
  readonly fin: boolean;
  readonly opcode: number;
  readonly mask: boolean;
  readonly readOnly: boolean;
  readonly rsv1: boolean;
}
const { Sender } = ws as unknown as { Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] } };

const TEXT_FRAME = { fin: true, opcode: 0x01, mask: false, readOnly: false, rsv1: false } as const;

/** One complete unmasked text frame (header + payload) carrying `text`. */
export function textFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const [header, body] = Sender.frame(payload, TEXT_FRAME) as [Buffer, Buffer];
  return Buffer.concat([header, body], header.length + body.length);
}

/**
 * The TCP socket under a `ws` socket (`ClientSocket._socket`, see connection.ts); undefined before
 * the upgrade completes and after the socket is gone.
 */
export function rawSocket(socket: ws.WebSocket): Socket | undefined;
export function rawSocket(socket: ClientSocket): FrameSink | undefined;
export function rawSocket(socket: ws.WebSocket | ClientSocket): FrameSink | undefined {
  return (socket as { _socket?: FrameSink })._socket;
}
