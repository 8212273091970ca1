/**
 * Error answers written straight to a socket, for the paths Koa never sees: refused WebSocket
 * handshakes (the 'upgrade' event) and requests Node's HTTP parser rejects ('clientError'). The
 * same JSON body as every other error (`{"error": {"code", "message"}}`), and the headers every
 * gateway response carries that make sense here.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorCode } from '@payments-system/protocol';

export function writeRawError(socket: Duplex, status: number, code: ErrorCode, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ error: { code, message } });
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n`;
  for (const [name, value] of Object.entries({
    Connection: 'close',
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
    // What the security-headers middleware sends, for a body that is never a page.
    'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    ...headers,
  })) {
    head += `${name}: ${value}\r\n`;
  }
  socket.end(`${head}\r\n${body}`);
}
