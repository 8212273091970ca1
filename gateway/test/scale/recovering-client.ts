/**
 * A test client that implements the recovery side of the protocol the way an app's library must:
 * it remembers the id of the last room event it handed to the app, reconnects after an unplanned
 * close with exponential backoff and full jitter, re-subscribes, sends `resume {since: lastId}`,
 * and hands the app every event exactly once, in id order.
 *
 * A reconnect announces `?since=<lastId>` in the handshake, so the gateway holds live events from
 * the 101 on until the replay is done. Without it (`sinceInHandshake: false`, the older protocol) a
 * reconnected socket is in its user, role and broadcast rooms from the 101 on, and live events can
 * reach it before the gateway has read its `resume`; they come again in the replay, after them.
 * Either way, from the `resume` until `resumed` (or `recovery:failed`) room events are held, then
 * handed over sorted by id with duplicates and ids ≤ lastId dropped (counted in `overlapDropped`).
 */
import WebSocket from 'ws';
import { closeAdvice, compareEventIds, SINCE_QUERY_PARAM, type Room, type RoomEvent, type ServerMessage } from '@payments-system/protocol';

export interface RecoveringClientOptions {
  readonly name: string;
  /** The WebSocket URL, asked again for every attempt. */
  readonly url: () => string;
  /** The access token, asked again for every attempt. */
  readonly token: () => string;
  /** Rooms to subscribe to beyond the automatic user, role and broadcast rooms. */
  readonly subscribe?: readonly Room[];
  readonly ca?: Buffer;
  /** Start as a reconnecting client that last saw this event: the first connection resumes from it. */
  readonly resumeFrom?: string;
  /** Announce `?since=<lastId>` in the handshake of a reconnect (default true). */
  readonly sinceInHandshake?: boolean;
  /** Backoff: attempt n waits a random time in [0, min(maxMs, baseMs * 2^n)] (full jitter). */
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
}

export interface Reconnect {
  readonly closeCode: number;
  readonly closedAt: number;
  /** When the new socket was open (101), and when the gateway answered its resume. */
  openedAt?: number;
  recoveredAt?: number;
  attempts: number;
  outcome?: 'resumed' | 'recovery:failed';
  replayed?: number;
  reason?: string;
}

export class RecoveringClient {
  /** Room events handed to the app, in order. */
  readonly events: RoomEvent[] = [];
  readonly reconnects: Reconnect[] = [];
  readonly recoveryFailures: Array<{ since: string; reason: string }> = [];
  /** Live events (not during a resume) whose id was not above lastId: a server-side duplicate. */
  liveDuplicates = 0;
  /** Events held during a resume that were dropped as already seen or duplicated (the pre-resume overlap). */
  overlapDropped = 0;
  /** Events received before a `resume` was answered, in total. */
  heldDuringResume = 0;
  lastId: string | undefined;
  /** Set when the gateway told us not to reconnect (4003 and the like). */
  stoppedBy: number | undefined;
  private ws: WebSocket | undefined;
  private stopped = false;
  private resuming = false;
  private held: RoomEvent[] = [];
  private pending: Reconnect | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly waiters = new Set<() => void>();
  private readonly others: ServerMessage[] = [];

  constructor(private readonly options: RecoveringClientOptions) {
    this.lastId = options.resumeFrom;
  }

  get name(): string {
    return this.options.name;
  }

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN && !this.resuming;
  }

  /** Connects for the first time; resolves once subscribed (the gateway answered every subscribe). */
  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const ws = this.open();
      ws.once('unexpected-response', (request, response) => {
        request.destroy();
        reject(new Error(`${this.options.name}: HTTP ${response.statusCode}`));
      });
      ws.once('error', reject);
      const expected = this.options.subscribe?.length ?? 0;
      if (expected === 0) ws.once('open', () => resolve());
      else {
        let subscribed = 0;
        const onMessage = (data: WebSocket.RawData) => {
          if ((JSON.parse(String(data)) as ServerMessage).type === 'subscribed' && ++subscribed === expected) {
            ws.off('message', onMessage);
            resolve();
          }
        };
        ws.on('message', onMessage);
      }
    });
  }

  /** Messages other than room events (replies, errors), for assertions. */
  replies(): readonly ServerMessage[] {
    return this.others;
  }

  /** Resolves once `condition` holds, re-checked after every message and close. */
  async until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    if (condition()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${this.options.name}: timed out waiting for ${what}`));
      }, timeoutMs);
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }

  /** Closes the socket as if the network dropped (no close frame), and reconnects like after any loss. */
  drop(): void {
    this.ws?.terminate();
  }

  /** Stops for good: closes with 1000 and never reconnects. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const ws = this.ws;
    if (ws === undefined || ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((resolve) => ws.once('close', resolve));
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else ws.close(1000);
    const timer = setTimeout(() => ws.terminate(), 1000);
    await closed;
    clearTimeout(timer);
  }

  private open(): WebSocket {
    const url = new URL(this.options.url());
    if (this.lastId !== undefined && this.options.sinceInHandshake !== false) url.searchParams.set(SINCE_QUERY_PARAM, this.lastId);
    const ws = new WebSocket(url, ['bearer', this.options.token()], {
      ...(this.options.ca && { ca: this.options.ca }),
      handshakeTimeout: 5000,
    });
    this.ws = ws;
    ws.on('error', () => undefined); // a close follows; it decides what to do
    ws.on('open', () => {
      for (const room of this.options.subscribe ?? []) ws.send(JSON.stringify({ type: 'subscribe', payload: { room } }));
      if (this.pending) this.pending.openedAt = Date.now();
      if (this.lastId !== undefined) {
        this.resuming = true;
        this.held = [];
        ws.send(JSON.stringify({ type: 'resume', payload: { since: this.lastId } }));
      } else if (this.pending) {
        // Never saw an event: nothing to resume from, live from here on.
        this.pending.recoveredAt = Date.now();
        this.pending = undefined;
      }
    });
    ws.on('message', (data) => this.onMessage(JSON.parse(String(data)) as ServerMessage));
    ws.on('close', (code) => this.onClose(ws, code));
    return ws;
  }

  private onMessage(message: ServerMessage): void {
    if (message.id !== undefined) {
      const event = message as RoomEvent;
      if (this.resuming) {
        this.held.push(event);
        this.heldDuringResume++;
      } else if (this.lastId !== undefined && compareEventIds(event.id!, this.lastId) <= 0) this.liveDuplicates++;
      else this.deliver(event);
    } else if (message.type === 'resumed' || message.type === 'recovery:failed') {
      this.resuming = false;
      const held = this.held.sort((a, b) => compareEventIds(a.id!, b.id!));
      this.held = [];
      if (message.type === 'recovery:failed') this.recoveryFailures.push({ ...message.payload });
      for (const event of held) {
        if (this.lastId !== undefined && compareEventIds(event.id!, this.lastId) <= 0) this.overlapDropped++;
        else this.deliver(event);
      }
      if (this.pending) {
        this.pending.recoveredAt = Date.now();
        this.pending.outcome = message.type;
        if (message.type === 'resumed') this.pending.replayed = message.payload.replayed;
        else this.pending.reason = message.payload.reason;
        this.pending = undefined;
      }
      this.others.push(message);
    } else this.others.push(message);
    this.wake();
  }

  private deliver(event: RoomEvent): void {
    this.events.push(event);
    this.lastId = event.id;
  }

  private onClose(ws: WebSocket, code: number): void {
    if (ws !== this.ws) return;
    this.resuming = false;
    this.held = []; // what a resume had not finished delivering comes again with the next resume
    this.wake();
    if (this.stopped) return;
    if (closeAdvice(code) !== 'reconnect') {
      this.stoppedBy = code;
      this.wake();
      return;
    }
    const reconnect = this.pending ?? { closeCode: code, closedAt: Date.now(), attempts: 0 };
    if (!this.pending) {
      this.pending = reconnect;
      this.reconnects.push(reconnect);
    }
    const { baseMs, maxMs } = this.options.backoff ?? { baseMs: 100, maxMs: 2000 };
    const delay = Math.random() * Math.min(maxMs, baseMs * 2 ** reconnect.attempts);
    reconnect.attempts++;
    this.timer = setTimeout(() => {
      if (!this.stopped) this.open();
    }, delay);
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
