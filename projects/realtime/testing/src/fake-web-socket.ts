import { parseServerMessage, type ClientMessage, type ServerMessage } from '@payments-system/protocol';

/**
 * A scriptable stand-in for the browser's WebSocket: the test plays the server.
 * Nothing happens by itself; call `open()`, `receive()`, `serverClose()`, `drop()` or `refuse()`.
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
  /** The HTTP status the gateway refused the handshake with (`refuse()`), or `null`. */
  refusedWith: number | null = null;

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

  /**
   * Delivers a server message. Throws, naming the field, when the protocol's schema rejects it: the gateway never
   * sends such a frame, so a test that builds one has a typo, not a scenario. Malformed frames on purpose: `receiveRaw`.
   */
  receive(message: ServerMessage): void {
    const data = JSON.stringify(message);
    const parsed = parseServerMessage(data);
    if (!parsed.ok) {
      throw new Error(`FakeWebSocket.receive: the gateway never sends this frame (${parsed.error}); use receiveRaw() to send a malformed one`);
    }
    this.receiveRaw(data);
  }

  /** Delivers any text as a frame, unchecked: how a test plays a gateway that sends something malformed. */
  receiveRaw(data: string): void {
    this.expectState(FakeWebSocket.OPEN, 'receive');
    this.onmessage?.(new MessageEvent('message', { data }));
  }

  /** The server closes cleanly with a code (1001, 4001, 4003...). */
  serverClose(code: number, reason = ''): void {
    this.readyState = FakeWebSocket.CLOSED;
    this.onclose?.(new CloseEvent('close', { code, reason, wasClean: true }));
  }

  /**
   * The connection fails or drops without a close frame and without an answer: the gateway or the network is down.
   * The browser sees an error, then close 1006; the gateway's handshake check gets no answer either.
   */
  drop(): void {
    this.readyState = FakeWebSocket.CLOSED;
    this.onerror?.(new Event('error'));
    this.onclose?.(new CloseEvent('close', { code: 1006, reason: '', wasClean: false }));
  }

  /**
   * The gateway answers the handshake with an HTTP status instead of 101 (401: it does not accept the token).
   * The browser hides the status (it sees what `drop()` shows: error, close 1006), but the gateway's handshake check
   * tells the client: 401 for a 401 refusal, 204 otherwise (the token is fine; the refusal had another cause).
   */
  refuse(status = 401): void {
    this.expectState(FakeWebSocket.CONNECTING, 'refuse');
    this.refusedWith = status;
    this.drop();
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
