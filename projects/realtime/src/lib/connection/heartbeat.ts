import { exhaustMap, ignoreElements, interval, take, throwError, timeout, type Observable } from 'rxjs';
import type { RealtimeHeartbeatOptions } from '../config';

/**
 * The application-level ping of an open socket (browsers never see protocol pings, so a dead socket looks
 * alive): every `intervalMs` it calls `ping()`, then errors with `dead()` when no frame arrives within
 * `timeoutMs`. Any frame proves the socket alive, not only the `pong`. Never completes; unsubscribe to stop.
 */
export function heartbeat(
  options: Required<RealtimeHeartbeatOptions>,
  frames$: Observable<unknown>,
  ping: () => void,
  dead: () => Error,
): Observable<never> {
  return interval(options.intervalMs).pipe(
    exhaustMap(() => {
      ping();
      return frames$.pipe(
        take(1),
        timeout({ first: options.timeoutMs, with: () => throwError(dead) }),
      );
    }),
    ignoreElements(), // only the error matters: a frame in time just lets the next interval start
  );
}
