import type { ClientMessage } from '@payments-system/protocol';
/**
 * A scriptable stand-in for the browser's WebSocket: the test plays the server.
 * Nothing happens by itself; call `open()`, `receive()`, `serverClose()` or `drop()`.
 */
export class FakeWebSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;

  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;

  readyState = FakeWebSocket.CONNECTING;
  binaryType: BinaryType = 'blob';
  protocol = '';
  /** Raw frames the client sent. */
  readonly sent: string[] = [];
  /** Set when the client called `close()`. */
  closedByClient: { code?: number; reason?: string } | null = null;

  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;

  readonly protocols: readonly string[];

  constructor(
    readonly url: string,
    protocols?: string | string[],
  ) {
    this.protocols = protocols === undefined ? [] : Array.isArray(protocols) ? [...protocols] : [protocols];
  }

  /** The token the client offered in the `bearer` subprotocol, if any. */
  get bearerToken(): string | null {
    return this.protocols[0] === 'bearer' ? (this.protocols[1] ?? null) : null;
  }

  /** Frames the client sent, parsed as JSON. */
  get messages(): Array<{ type: string; payload?: unknown; correlationId?: string }> {
    return this.sent.map((text) => JSON.parse(text) as { type: string; payload?: unknown; correlationId?: string });
  }

  /** Client messages of one type. */
  sentOfType<K extends ClientMessage['type']>(type: K): Array<Extract<ClientMessage, { type: K }>> {
    return this.messages.filter((m) => m.type === type) as Array<Extract<ClientMessage, { type: K }>>;
  }

  /** Completes the handshake (the server selected `protocol`). */
  open(protocol = this.protocols[0] ?? ''): void {
    this.expectState(FakeWebSocket.CONNECTING, 'open');
    this.protocol = protocol;
    this.readyState = FakeWebSocket.OPEN;
    this.onopen?.(new Event('open'));
  }

  /** Delivers a frame: objects are JSON-encoded, strings are sent as they are. */
  receive(message: object | string): void {
    this.expectState(FakeWebSocket.OPEN, 'receive');
    const data = typeof message === 'string' ? message : JSON.stringify(message);
    this.onmessage?.(new MessageEvent('message', { data }));
  }

  /** The server closes cleanly with a code (1001, 4001, 4003...). */
  serverClose(code: number, reason = ''): void {
    this.readyState = FakeWebSocket.CLOSED;
    this.onclose?.(new CloseEvent('close', { code, reason, wasClean: true }));
  }

  /** The connection fails or drops without a close frame (a refused handshake, a killed server): error, then close 1006. */
  drop(): void {
    this.readyState = FakeWebSocket.CLOSED;
    this.onerror?.(new Event('error'));
    this.onclose?.(new CloseEvent('close', { code: 1006, reason: '', wasClean: false }));
  }

  send(data: string): void {
    if (this.readyState !== FakeWebSocket.OPEN) throw new Error('FakeWebSocket: send() while not open');
    this.sent.push(data);
  }

  /** Records the close; the close event is not delivered (the client no longer listens by then). */
  close(code?: number, reason?: string): void {
    this.closedByClient = { code, reason };
    this.readyState = FakeWebSocket.CLOSED;
  }

  addEventListener(): void {
    throw new Error('FakeWebSocket: rxjs/webSocket uses on* handlers only');
  }

  removeEventListener(): void {
    /* nothing registered */
  }

  private expectState(state: number, action: string): void {
    if (this.readyState !== state) throw new Error(`FakeWebSocket: cannot ${action} in readyState ${this.readyState}`);
  }
}
