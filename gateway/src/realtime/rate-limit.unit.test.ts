import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fullBucket, msUntilToken, takeToken } from './rate-limit.ts';

describe('takeToken', () => {
  it('allows a burst, then the sustained rate', () => {
    const limit = { perSecond: 2, burst: 3 };
    const bucket = fullBucket(limit, 0);
    assert.deepEqual([0, 0, 0, 0].map(() => takeToken(bucket, limit, 0)), [true, true, true, false]);
    assert.equal(takeToken(bucket, limit, 400), false, '0.8 of a token refilled');
    assert.equal(takeToken(bucket, limit, 500), true, 'one token refilled after 500 ms');
    assert.equal(takeToken(bucket, limit, 60_000), true);
    assert.ok(bucket.tokens <= limit.burst, 'never refills past the burst');
  });

  it('says how long until the next token', () => {
    const limit = { perSecond: 0.1, burst: 1 };
    const bucket = fullBucket(limit, 0);
    assert.equal(msUntilToken(bucket, limit), 0);
    assert.equal(takeToken(bucket, limit, 0), true);
    assert.equal(msUntilToken(bucket, limit), 10_000);
    assert.equal(takeToken(bucket, limit, 2_500), false);
    assert.equal(msUntilToken(bucket, limit), 7_500);
  });
});
