import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { readHandshake, selectSubprotocol } from './handshake.ts';

const request = (url: string, protocol?: string) =>
  ({ url, headers: protocol === undefined ? {} : { 'sec-websocket-protocol': protocol } }) as IncomingMessage;

describe('readHandshake', () => {
  it('takes the token after "bearer" in the subprotocol list', () => {
    assert.deepEqual(readHandshake(request('/ws', 'bearer, abc.def.ghi')), { pathname: '/ws', token: 'abc.def.ghi', since: undefined });
  });

  it('reads the resume position from ?since=', () => {
    assert.equal(readHandshake(request('/ws?since=1765447200000-3', 'bearer, t')).since, '1765447200000-3');
  });

  it('prefers the subprotocol over the query', () => {
    assert.equal(readHandshake(request('/ws?token=query', 'bearer, header')).token, 'header');
  });

  it('falls back to ?token=', () => {
    assert.equal(readHandshake(request('/ws?token=abc')).token, 'abc');
  });

  it('finds no token in other subprotocols or an empty query', () => {
    assert.equal(readHandshake(request('/ws?token=', 'graphql-ws')).token, undefined);
    assert.equal(readHandshake(request('/ws', 'bearer')).token, undefined);
  });

  it('separates the path from the query', () => {
    assert.equal(readHandshake(request('/ws/extra?token=a')).pathname, '/ws/extra');
  });

  it('normalizes paths that only resolve to /ws', () => {
    assert.equal(readHandshake(request('/x/../ws')).pathname, '/ws');
    assert.equal(readHandshake(request('/%77s')).pathname, '/%77s', 'percent-encoding is not decoded into /ws');
    assert.equal(readHandshake(request('/ws/')).pathname, '/ws/');
  });
});

describe('selectSubprotocol', () => {
  it('answers "bearer", never the token', () => {
    assert.equal(selectSubprotocol(new Set(['bearer', 'secret.jwt.value'])), 'bearer');
    assert.equal(selectSubprotocol(new Set(['chat'])), false);
  });
});
