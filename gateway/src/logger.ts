/**
 * Structured JSON logs (pino). Tokens never reach a log line: credentials are redacted by path,
 * and nothing in the gateway logs a URL with its query string.
 */
import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.ts';

export type { Logger };

export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { service: 'gateway' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['token', '*.token', 'authorization', '*.authorization', '*.headers.authorization', '*.headers["sec-websocket-protocol"]'],
      censor: '[redacted]',
    },
  });
}
