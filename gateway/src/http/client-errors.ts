/**
 * Requests Node's HTTP parser refuses before any handler runs (the server's 'clientError'): a
 * malformed request line or header, headers over the limit, a request slower than
 * HTTP_HEADERS_TIMEOUT_MS / HTTP_REQUEST_TIMEOUT_MS. Answered like every other error, counted, and
 * the connection closed. Node's own default answers with an empty body and counts nothing.
 */
import type { Duplex } from 'node:stream';
import type { ErrorCode } from '@payments-system/protocol';
import type { Logger } from '../logger.ts';
import type { GatewayMetrics } from '../metrics.ts';
import { writeRawError } from './raw-response.ts';

type ClientErrorListener = (error: Error & { code?: string }, socket: Duplex) => void;

export function answerClientErrors(metrics: GatewayMetrics, logger: Logger): ClientErrorListener {
  return (error, socket) => {
    // Nothing to answer: the client is gone, or a response of its own is already on the wire.
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const [status, code, message] = classify(error.code);
    metrics.httpClientErrors.inc({ status });
    logger.debug({ code: error.code, status }, 'http client error');
    writeRawError(socket, status, code, message);
    socket.once('finish', () => socket.destroy());
  };
}

function classify(code: string | undefined): [number, ErrorCode, string] {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'REQUEST_TIMEOUT', 'the request did not arrive in time'];
  if (code === 'HPE_HEADER_OVERFLOW') return [431, 'HEADERS_TOO_LARGE', 'request headers too large'];
  return [400, 'BAD_REQUEST', 'malformed HTTP request'];
}
