import type { PublishRequest, Role } from '@payments-system/protocol';
import { filter, firstValueFrom, timeout, type Observable } from 'rxjs';

/** Set by karma.conf.js (`client.gateway`): the real gateway started for this test run. */
declare const __karma__: { config: { gateway: { wsUrl: string; control: string } } };

export const gatewayWsUrl = (): string => __karma__.config.gateway.wsUrl;
const control = (): string => __karma__.config.gateway.control;

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${control()}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** A real HS256 token signed with the gateway's secret; a negative ttl gives an expired token. */
export async function mintToken(userId: string, role: Role = 'CUSTOMER', ttlSeconds = 600): Promise<string> {
  const query = new URLSearchParams({ userId, role, ttl: String(ttlSeconds) });
  return (await call<{ token: string }>('GET', `/token?${query}`)).token;
}

/** Publishes a room event through the gateway's bus; resolves with its event id. */
export async function publish(request: PublishRequest): Promise<string> {
  return (await call<{ id: string }>('POST', '/publish', request)).id;
}

/** Closes every socket with 1001 and stops listening. */
export const stopGateway = (): Promise<unknown> => call('POST', '/stop');
/** Starts the gateway again on the same port. */
export const startGateway = (): Promise<unknown> => call('POST', '/start');

/** The first value matching `predicate`, or a rejection naming `what` after `ms`. */
export function waitFor<T>(source: Observable<T>, predicate: (value: T) => boolean, what: string, ms = 10_000): Promise<T> {
  return firstValueFrom(
    source.pipe(
      filter(predicate),
      timeout({ first: ms, with: () => Promise.reject(new Error(`timed out after ${ms} ms waiting for ${what}`)) }),
    ),
  );
}
