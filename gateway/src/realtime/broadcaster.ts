/**
 * Delivers room events to the sockets in a room: the hot path.
 *
 * - The event is serialized once and framed once (`textFrame`); every open member gets the
 *   same bytes written straight to its TCP socket. Per recipient there is a state check and one
 *   write: no closure, no buffer, no `ws` framing.
 * - Coalescing: when several events reach the broadcaster in one turn of the event loop (a
 *   burst), each recipient's TCP socket is corked on its second frame and all are uncorked
 *   together at the end of the turn (`setImmediate`), so each socket gets one `writev` for the
 *   whole burst instead of one write per event. After a turn with a burst, the next turn corks
 *   from its first event; an isolated event is written directly, without cork bookkeeping.
 * - Slow consumers: each write goes through `Outbound.write`, the bound every send path shares
 *   (WS_MAX_BUFFERED_BYTES); a member past it is reported there (the hub closes it with 4008).
 */
import { WebSocket } from 'ws';
import type { Room, RoomEvent } from '@payments-system/protocol';
import type { FrameSink } from './connection.ts';
import { rawSocket, textFrame } from './frame.ts';
import type { Outbound } from './outbound.ts';
import type { RoomRegistry } from './room-registry.ts';

export interface DeliveryReport {
  readonly delivered: number;
  readonly slowConsumers: number;
}

const NOBODY: DeliveryReport = Object.freeze({ delivered: 0, slowConsumers: 0 });
const { OPEN } = WebSocket;

export class Broadcaster {
  /** TCP sockets corked during this turn, uncorked together when it ends. */
  private readonly corked: FrameSink[] = [];
  /** Events delivered in the current turn of the event loop. */
  private eventsThisTurn = 0;
  /** The previous turn was a burst: cork from the first event of this one. */
  private corkFromFirst = false;

  constructor(
    private readonly rooms: RoomRegistry,
    private readonly outbound: Outbound,
  ) {}

  deliver(room: Room, event: RoomEvent): DeliveryReport {
    const members = this.rooms.members(room);
    if (!members) return NOBODY;
    const frame = textFrame(JSON.stringify(event));
    const cork = this.corkFromFirst || this.eventsThisTurn > 0;
    if (this.eventsThisTurn++ === 0) setImmediate(this.endTurn);
    const { corked, outbound } = this;
    let delivered = 0;
    let slowConsumers = 0;
    for (const socket of members) {
      if (socket.readyState !== OPEN) continue;
      const raw = rawSocket(socket);
      if (raw === undefined) continue;
      if (cork && raw.writableCorked === 0) {
        raw.cork();
        corked.push(raw);
      }
      if (outbound.write(socket, raw, frame)) delivered++;
      else slowConsumers++;
    }
    return { delivered, slowConsumers };
  }

  /** Delivers what was corked during the turn: one write per socket. */
  private readonly endTurn = (): void => {
    this.corkFromFirst = this.eventsThisTurn > 1;
    this.eventsThisTurn = 0;
    const corked = this.corked;
    for (let i = 0; i < corked.length; i++) corked[i]!.uncork();
    corked.length = 0;
  };
}
