import { firstValueFrom } from 'rxjs';
import { fetchHandshakeCheck, handshakeCheckUrl, verdictOf } from './handshake-check';

describe('the handshake check', () => {
  it('asks on the socket URL over HTTP, without its query (no token, no since)', () => {
    expect(handshakeCheckUrl('wss://gw.example.com/ws?since=1-2&token=secret')).toBe('https://gw.example.com/ws');
    expect(handshakeCheckUrl('ws://127.0.0.1:3000/ws')).toBe('http://127.0.0.1:3000/ws');
  });

  it('counts only an answered 401 as a refusal', () => {
    expect(verdictOf(401)).toBe('refused');
    expect(verdictOf(204)).toBe('accepted');
    for (const status of [403, 404, 426, 500, 502, 503]) expect(verdictOf(status)).withContext(String(status)).toBe('unknown');
  });

  it('sends the token as a bearer header, outside the app (no cookies, no cache), and reads the status', async () => {
    const calls: Array<[string, RequestInit | undefined]> = [];
    const fetchFn = (async (url: string, init?: RequestInit) => {
      calls.push([url, init]);
      return new Response(null, { status: 401 });
    }) as typeof fetch;
    expect(await firstValueFrom(fetchHandshakeCheck(fetchFn)('ws://gw.test/ws?since=1-1', 'jwt-1'))).toBe('refused');
    expect(calls[0][0]).toBe('http://gw.test/ws');
    expect(calls[0][1]).toEqual(jasmine.objectContaining({ headers: { authorization: 'Bearer jwt-1' }, cache: 'no-store', credentials: 'omit' }));
  });

  it('answers unknown when the request fails (the gateway or the network is down) or there is no fetch', async () => {
    const failing = (() => Promise.reject(new TypeError('Failed to fetch'))) as typeof fetch;
    expect(await firstValueFrom(fetchHandshakeCheck(failing)('ws://gw.test/ws', 't'))).toBe('unknown');
    expect(await firstValueFrom(fetchHandshakeCheck(null)('ws://gw.test/ws', 't'))).toBe('unknown');
  });

  it('aborts the request when the check is abandoned', () => {
    let signal: AbortSignal | undefined;
    const pending = ((_: string, init?: RequestInit) => {
      signal = init?.signal ?? undefined;
      return new Promise<Response>(() => undefined);
    }) as typeof fetch;
    fetchHandshakeCheck(pending)('ws://gw.test/ws', 't').subscribe().unsubscribe();
    expect(signal?.aborted).toBeTrue();
  });
});
