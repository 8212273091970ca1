import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseClientMessage, parsePublishRequest, parseServerMessage } from './parse.js';

describe('parseClientMessage', () => {
  it('accepts a subscribe with a valid room and keeps the correlationId', () => {
    const result = parseClientMessage(
      JSON.stringify({ type: 'subscribe', payload: { room: 'user:u1' }, timestamp: '2026-12-11T10:00:00Z', correlationId: 'c1' }),
    );
    assert.deepEqual(result, {
      ok: true,
      value: { type: 'subscribe', payload: { room: 'user:u1' }, timestamp: '2026-12-11T10:00:00Z', correlationId: 'c1' },
    });
  });

  it('accepts a ping without payload', () => {
    assert.equal(parseClientMessage('{"type":"ping"}').ok, true);
  });

  it('accepts a resume without since: a client that saw no event asks for its position', () => {
    assert.deepEqual(parseClientMessage('{"type":"resume","payload":{},"correlationId":"p"}'), {
      ok: true,
      value: { type: 'resume', payload: {}, correlationId: 'p' },
    });
  });

  const rejected: Array<[string, string, RegExp]> = [
    ['invalid JSON', '{"type":', /invalid JSON/],
    ['a non-object', '[1,2]', /JSON object/],
    ['a string', '"ping"', /JSON object/],
    ['an unknown type', '{"type":"explode"}', /unknown message type; expected one of subscribe, unsubscribe, ping, resume/],
    ['a resume with a malformed id', '{"type":"resume","payload":{"since":"42"}}', /payload\.since: must be an event id/],
    ['a subscribe without room', '{"type":"subscribe","payload":{}}', /payload\.room/],
    ['a room of an unknown kind', '{"type":"subscribe","payload":{"room":"admin:all"}}', /payload\.room: must be a room name/],
    ['a role room for an unknown role', '{"type":"subscribe","payload":{"room":"role:ROOT"}}', /payload\.room/],
    ['a bad timestamp', '{"type":"ping","timestamp":"yesterday"}', /timestamp/],
    ['an empty correlationId', '{"type":"ping","correlationId":""}', /correlationId/],
  ];
  for (const [what, text, message] of rejected) {
    it(`rejects ${what} with a message that names the problem`, () => {
      const result = parseClientMessage(text);
      assert.equal(result.ok, false);
      assert.match((result as { error: string }).error, message);
    });
  }
});

describe('parseServerMessage', () => {
  it('accepts a payment:updated event and narrows its payload', () => {
    const result = parseServerMessage(
      JSON.stringify({
        type: 'payment:updated',
        payload: { paymentId: 'pay_123', status: 'completed', amount: '100.00', currency: 'EUR' },
        timestamp: '2026-12-11T10:00:00.000Z',
        id: '1765447200000-42',
      }),
    );
    assert.ok(result.ok);
    assert.equal(result.value.type, 'payment:updated');
    if (result.value.type === 'payment:updated') assert.equal(result.value.payload.amount, '100.00');
  });

  it('rejects a float amount, which would not be exact', () => {
    const result = parseServerMessage(
      JSON.stringify({
        type: 'payment:updated',
        payload: { paymentId: 'p', status: 'completed', amount: 100.1, currency: 'EUR' },
        timestamp: '2026-12-11T10:00:00Z',
      }),
    );
    assert.equal(result.ok, false);
    assert.match((result as { error: string }).error, /payload\.amount/);
  });
});

describe('parsePublishRequest', () => {
  it('accepts a known room event for a valid room', () => {
    const result = parsePublishRequest({ room: 'broadcast', type: 'system:broadcast', payload: { message: 'hi', level: 'info' } });
    assert.equal(result.ok, true);
  });

  it('rejects replies, which are not publishable', () => {
    const result = parsePublishRequest({ room: 'broadcast', type: 'pong', payload: {} });
    assert.equal(result.ok, false);
  });

  it('rejects a payload that does not fit its type', () => {
    const result = parsePublishRequest({ room: 'user:u1', type: 'session:sync', payload: { userId: 'u1' } });
    assert.equal(result.ok, false);
    assert.match((result as { error: string }).error, /payload\.sessionId/);
  });
});
