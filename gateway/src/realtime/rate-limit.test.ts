import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Connection } from './connection.ts';
import { takeMessageToken } from './rate-limit.ts';

describe('takeMessageToken', () => {
  it('allows a burst, then the sustained rate', () => {
    const connection = { allowance: 3, lastRefillAt: 0 } as Connection;
    const limit = { perSecond: 2, burst: 3 };
    assert.deepEqual([0, 0, 0, 0].map(() => takeMessageToken(connection, limit, 0)), [true, true, true, false]);
    assert.equal(takeMessageToken(connection, limit, 400), false, '0.8 of a message refilled');
    assert.equal(takeMessageToken(connection, limit, 500), true, 'one message refilled after 500 ms');
    assert.equal(takeMessageToken(connection, limit, 60_000), true);
    assert.ok(connection.allowance <= limit.burst, 'never refills past the burst');
  });
});
