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
 * `destination` defaults to standard output, written synchronously. pino's own default is
 * asynchronous: a line waits in memory for a write on libuv's thread pool, and the lines still
 * waiting are lost when the process dies without running its exit handlers (an OOM kill, an abort).
 * At the rate a gateway logs (one or two lines per request or event, rarely many in one turn),
 * the synchronous write is also the cheaper one: it saved ≈ 40 µs of CPU per publish request in
 * docs/benchmarks.md, where the asynchronous one pays a thread-pool round trip per line. The cost
 * is that a stdout nobody reads (a full pipe) stalls the event loop, which is what the container
 * runtime's log driver is there to prevent.
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
