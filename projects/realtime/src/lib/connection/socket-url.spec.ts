import { socketUrl } from './socket-url';

describe('socketUrl', () => {
  it('resolves a path on the page origin, wss on https pages', () => {
    expect(socketUrl('/ws', { protocol: 'https:', host: 'app.example' }, null, null)).toBe('wss://app.example/ws');
    expect(socketUrl('/ws', { protocol: 'http:', host: 'localhost:4200' }, null, null)).toBe('ws://localhost:4200/ws');
    expect(socketUrl('/ws', null, null, null)).toBe('ws://localhost/ws');
  });

  it('adds since and the query token, encoded, after any query the URL has', () => {
    expect(socketUrl('wss://gw/ws', null, 'a b', '1765447200000-3')).toBe('wss://gw/ws?since=1765447200000-3&token=a%20b');
    expect(socketUrl('wss://gw/ws?tenant=t1', null, null, '1-0')).toBe('wss://gw/ws?tenant=t1&since=1-0');
  });
});
