import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { readHandshake, selectSubprotocol, type HandshakeTarget } from './handshake.ts';

const request = (url: string, protocol?: string) =>
  ({ url, headers: protocol === undefined ? {} : { 'sec-websocket-protocol': protocol } }) as IncomingMessage;

function target(url: string, protocol?: string): HandshakeTarget {
  const reading = readHandshake(request(url, protocol));
  assert.ok(reading.ok, `${url} should be readable: ${reading.ok ? '' : reading.message}`);
  return reading;
}

function refusal(url: string, protocol?: string): string {
  const reading = readHandshake(request(url, protocol));
  assert.ok(!reading.ok, `${url} should be refused`);
  return reading.message;
}

describe('readHandshake', () => {
  it('takes the token after "bearer" in the subprotocol list', () => {
    assert.deepEqual(target('/ws', 'bearer, abc.def.ghi'), { ok: true, pathname: '/ws', token: 'abc.def.ghi', since: undefined });
  });

  it('reads the resume position from ?since=', () => {
    assert.equal(target('/ws?since=1765447200000-3', 'bearer, t').since, '1765447200000-3');
  });

  it('falls back to ?token=', () => {
    assert.equal(target('/ws?token=abc').token, 'abc');
  });

  it('accepts the same token in both places', () => {
    assert.equal(target('/ws?token=same', 'bearer, same').token, 'same');
  });

  it('refuses two different tokens instead of picking one', () => {
    assert.match(refusal('/ws?token=query', 'bearer, header'), /bearer subprotocol and \?token= differ/);
    assert.match(refusal('/ws?token=a&token=b'), /\?token= once/);
    assert.match(refusal('/ws', 'bearer, a, bearer, b'), /bearer subprotocol once/);
    assert.match(refusal('/ws?since=1-0&since=2-0', 'bearer, t'), /\?since= once/);
  });

  it('finds no token in other subprotocols or an empty query', () => {
    assert.equal(target('/ws?token=', 'graphql-ws').token, undefined);
    assert.equal(target('/ws', 'bearer').token, undefined);
  });

  it('separates the path from the query', () => {
    assert.equal(target('/ws/extra?token=a').pathname, '/ws/extra');
  });

  it('normalizes paths that only resolve to /ws', () => {
    assert.equal(target('/x/../ws').pathname, '/ws');
    assert.equal(target('/%77s').pathname, '/%77s', 'percent-encoding is not decoded into /ws');
    assert.equal(target('/ws/').pathname, '/ws/');
  });

  it('reads targets the URL parser cannot take alone as paths, never as hosts', () => {
    // Each of these made `new URL(target, base)` throw, on the 'upgrade' event: the process died.
    for (const url of ['//[', '//a:99999/ws', '//%', '//[::1/ws', '//a b/ws']) assert.notEqual(target(url).pathname, '/ws', url);
    assert.equal(target('//evil.example/ws').pathname, '//evil.example/ws');
  });

  it('refuses targets that are not paths', () => {
    for (const url of ['*', 'http://gateway/ws', 'ws', '']) assert.match(refusal(url), /must be a path/);
  });
});

describe('selectSubprotocol', () => {
  it('answers "bearer", never the token', () => {
    assert.equal(selectSubprotocol(new Set(['bearer', 'secret.jwt.value'])), 'bearer');
    assert.equal(selectSubprotocol(new Set(['chat'])), false);
  });
});
