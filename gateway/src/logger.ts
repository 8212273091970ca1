/**
 * Structured JSON logs (pino). Tokens never reach a log line: credentials are redacted by path,
 * and nothing in the gateway logs a URL with its query string.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.ts';

export type { Logger };

/**
 * Where credentials could sit in a logged object. Spelled out rather than wildcards (`*.token`):
 * pino's redaction walks every key of every logged object for a wildcard, which tripled the cost
 * of each line (≈ 21 µs instead of 7 µs), and the publish path logs on every event.
 */
export const REDACTED_PATHS = [
  'token',
  'accessToken',
  'refreshToken',
  'authorization',
  'cookie',
  'headers.authorization',
  'headers.cookie',
  'headers["sec-websocket-protocol"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["sec-websocket-protocol"]',
];

/**
 * `destination` defaults to standard output, written synchronously. pino's own default queues lines
 * for libuv's thread pool, and loses those still queued when the process dies without its exit
 * handlers (an OOM kill). At one or two lines per request or event, a direct write is also cheaper
 * than a thread-pool round trip per line (≈ 40 µs per publish request, docs/benchmarks.md). The price:
 * a stdout nobody drains stalls the event loop once its pipe is full (docs/operations.md).
 */
export function createLogger(level: LogLevel, destination: DestinationStream = pino.destination({ dest: 1, sync: true })): Logger {
  const options = {
    level,
    base: { service: 'gateway' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return pino(options, destination);
}
