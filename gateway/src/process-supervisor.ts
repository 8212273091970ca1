/**
 * How a gateway process ends, the same for `npm run gateway` and `npm start`:
 *
 * - SIGTERM / SIGINT: drain (new handshakes refused, every socket closed with 1001 within
 *   SHUTDOWN_TIMEOUT_MS), then exit 0.
 * - An uncaught exception: a bug left the process in a state nobody knows (Node's documentation:
 *   not safe to resume). Logged as fatal with its origin and counted, then the same drain, but
 *   exit 1 so that the orchestrator restarts the gateway; clients reconnect elsewhere and resume.
 *   If the drain has not ended SHUTDOWN_TIMEOUT_MS + 5 s later, or a second exception comes, the
 *   process exits 1 at once.
 * - An unhandled rejection: a promise nobody awaited failed. Its own work is lost, but every
 *   request, frame and upgrade handler is total and awaits its own work, so nothing else is left
 *   half-done: logged as an error with the reason and counted, and the gateway serves on (Node's
 *   default would crash every socket for it). Alert on gateway_internal_errors_total.
 */
import type { Gateway } from './server.ts';

export interface SupervisorOptions {
  /** How the process ends (tests observe it). */
  readonly exit?: (code: number) => void;
  /** The process whose events are handled. */
  readonly target?: NodeJS.Process;
}

/** Extra time, past SHUTDOWN_TIMEOUT_MS, that closing the bus and stores may take after a crash. */
const CRASH_DRAIN_GRACE_MS = 5000;

export function superviseProcess(gateway: Gateway, options: SupervisorOptions = {}): void {
  const target = options.target ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const { logger, metrics } = gateway;
  let stopping = false;

  const stop = (code: number): void => {
    stopping = true;
    gateway.close().then(
      () => exit(code),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        exit(1);
      },
    );
  };

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    target.once(signal, () => {
      logger.info({ signal }, 'shutting down');
      stop(0);
    });
  }

  target.on('uncaughtException', (error, origin) => {
    metrics.internalErrors.inc({ source: 'uncaught_exception' });
    logger.fatal({ err: error, origin }, 'uncaught exception: draining, then exiting with 1');
    if (stopping) return exit(1);
    setTimeout(() => {
      logger.fatal({ timeoutMs: gateway.config.shutdownTimeoutMs + CRASH_DRAIN_GRACE_MS }, 'drain after the crash did not end; exiting');
      exit(1);
    }, gateway.config.shutdownTimeoutMs + CRASH_DRAIN_GRACE_MS);
    stop(1);
  });

  target.on('unhandledRejection', (reason) => {
    metrics.internalErrors.inc({ source: 'unhandled_rejection' });
    logger.error({ err: reason }, 'unhandled promise rejection; serving on');
  });
}
