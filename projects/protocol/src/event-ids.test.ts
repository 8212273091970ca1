import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareEventIds, isEventId } from './event-ids.js';

describe('event ids', () => {
  it('order by milliseconds, then sequence, numerically', () => {
    const sorted = ['1000-0', '999-5', '1000-10', '1000-2', '20-0'].sort(compareEventIds);
    assert.deepEqual(sorted, ['20-0', '999-5', '1000-0', '1000-2', '1000-10']);
    assert.equal(compareEventIds('5-5', '5-5'), 0);
  });

  it('recognise the format', () => {
    assert.equal(isEventId('1765447200000-0'), true);
    for (const bad of ['42', '1-', '-1', 'a-b', '1-2-3', 42]) assert.equal(isEventId(bad), false);
  });
});
