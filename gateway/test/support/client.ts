/** A real `ws` client with an awaitable inbox, for tests. */
import { after } from 'node:test';
import WebSocket, { type ClientOptions } from 'ws';
import { parseServerMessage, type ServerMessage, type ServerMessageType } from '@payments-system/protocol';

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

export interface ConnectOptions extends ClientOptions {
  /** Where the token travels: the `bearer` subprotocol (default) or `?token=`. */
  readonly via?: 'subprotocol' | 'query';
  readonly path?: string;
}

const open = new Set<TestClient>();
after(() => Promise.all([...open].map((client) => client.close())));

export class TestClient {
  readonly closed: Promise<CloseInfo>;
  private readonly inbox: ServerMessage[] = [];
  private readonly waiters: Array<() => void> = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const parsed = parseServerMessage(String(data));
      if (!parsed.ok) throw new Error(`gateway sent an invalid message: ${parsed.error}: ${String(data)}`);
      this.inbox.push(parsed.value);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
    void this.closed.then(() => {
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next unread message (of `type`, when given); earlier messages of other types stay unread. */
  async next<K extends ServerMessageType>(type?: K, timeoutMs = 3000): Promise<ServerMessage<K>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.inbox.findIndex((message) => type === undefined || message.type === type);
      if (index >= 0) return this.inbox.splice(index, 1)[0] as ServerMessage<K>;
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`socket closed while waiting for ${type ?? 'a message'}`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out waiting for ${type ?? 'a message'}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Messages received and not yet read by `next`. */
  unread(): readonly ServerMessage[] {
    return this.inbox;
  }

  /** Sends a request with a fresh correlationId and returns the reply that echoes it. */
  async request(message: { type: string; payload?: unknown }): Promise<ServerMessage> {
    const correlationId = `c${Math.random().toString(36).slice(2)}`;
    this.send({ ...message, correlationId });
    for (;;) {
      const reply = await this.next();
      if (reply.correlationId === correlationId) return reply;
    }
  }

  async close(): Promise<CloseInfo> {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.close(1000);
    return this.closed;
  }
}

export async function connect(wsUrl: string, token: string | undefined, options: ConnectOptions = {}): Promise<TestClient> {
  const { via = 'subprotocol', path, ...clientOptions } = options;
  const url = new URL(wsUrl);
  if (path !== undefined) url.pathname = path;
  if (token !== undefined && via === 'query') url.searchParams.set('token', token);
  const protocols = token !== undefined && via === 'subprotocol' ? ['bearer', token] : [];
  const ws = new WebSocket(url, protocols, clientOptions);
  const client = new TestClient(ws);
  open.add(client);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
    ws.once('unexpected-response', (_request, response) => reject(new Error(`handshake refused with HTTP ${response.statusCode}`)));
  });
  return client;
}

export interface RefusedHandshake {
  readonly status: number;
  readonly body: string;
}

/** Attempts a handshake that must be refused; resolves with the HTTP status and body. Fails on a 101. */
export async function refusedHandshake(wsUrl: string, token: string | undefined, options: ConnectOptions = {}): Promise<RefusedHandshake> {
  const { via = 'subprotocol', path, ...clientOptions } = options;
  const url = new URL(wsUrl);
  if (path !== undefined) url.pathname = path;
  if (token !== undefined && via === 'query') url.searchParams.set('token', token);
  const ws = new WebSocket(url, token !== undefined && via === 'subprotocol' ? ['bearer', token] : [], clientOptions);
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('handshake was accepted (101) but should have been refused'));
    });
    ws.once('unexpected-response', (request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk));
      response.on('end', () => {
        request.destroy();
        resolve({ status: response.statusCode ?? 0, body });
      });
    });
    ws.once('error', (error) => reject(error));
  });
}
