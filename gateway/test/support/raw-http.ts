/**
 * HTTP as bytes on a TCP socket, for requests no well-behaved client would send: malformed
 * request lines, upgrade targets a URL parser cannot take, headers too large, bodies that never
 * finish. Resolves with what the server wrote before it closed the connection.
 */
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  /** 0 when the server closed without a status line. */
  readonly status: number;
  /** Header names in lower case; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Everything received, as latin1 text. */
  readonly raw: string;
}

export interface RawRequestOptions {
  /** Keep writing nothing after `text` (a slow client); the server's answer still ends it. */
  readonly keepOpen?: boolean;
  /** Fail when the server has not closed the connection by then. */
  readonly timeoutMs?: number;
}

/** Writes `text` (or bytes) to a fresh connection and collects the answer until the server ends it. */
export function rawRequest(port: number, text: string | Buffer, options: RawRequestOptions = {}): Promise<RawResponse> {
  const { timeoutMs = 5000 } = options;
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms; got: ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 300))}`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // A 101 leaves the connection open (it is a WebSocket now): the head is the whole answer.
      const head = Buffer.concat(chunks).toString('latin1');
      if (/^HTTP\/1\.1 101 /.test(head) && head.includes('\r\n\r\n')) socket.destroy();
    });
    socket.on('error', () => undefined); // a reset after the answer is the end of it
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseResponse(Buffer.concat(chunks).toString('latin1')));
    });
    socket.write(text);
    if (!options.keepOpen) socket.end();
  });
}

export function parseResponse(raw: string): RawResponse {
  const split = raw.indexOf('\r\n\r\n');
  const head = split < 0 ? raw : raw.slice(0, split);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3}) /.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  const body = split < 0 ? '' : Buffer.from(raw.slice(split + 4), 'latin1').toString('utf8');
  return { status, headers, body, raw };
}

/** An upgrade request as a browser would send it, with `target` and extra header lines as given. */
export function upgradeRequest(target: string, headers: Readonly<Record<string, string>> = {}): string {
  const all: Record<string, string> = {
    Host: '127.0.0.1',
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    ...headers,
  };
  return `GET ${target} HTTP/1.1\r\n${Object.entries(all).map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`;
}

/** The `{"error": {"code", "message"}}` body every gateway error carries; fails on anything else. */
export function errorOf(response: RawResponse): { readonly code: string; readonly message: string } {
  const parsed = JSON.parse(response.body) as { error?: { code?: unknown; message?: unknown } };
  const { code, message } = parsed.error ?? {};
  if (typeof code !== 'string' || typeof message !== 'string') throw new Error(`not an error body: ${response.body}`);
  return { code, message };
}
