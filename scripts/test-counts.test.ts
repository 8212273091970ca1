import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countTests } from './lib/test-counts.mjs';

describe('countTests', () => {
  it("adds up node's spec reporter and Karma's summary lines", () => {
    const output = [
      '✔ something (1ms)',
      'ℹ tests 12',
      'ℹ pass 11',
      'ℹ fail 1',
      '\x1b[32mTOTAL: 73 SUCCESS\x1b[39m',
      'karma: 73 passed, 2 failed, 0 skipped',
    ].join('\n');
    assert.deepEqual(countTests(output), { passed: 84, failed: 3 });
  });

  it("reads the consumer check's closing line", () => {
    assert.deepEqual(countTests('ok   ng build\nconsumer: 9 passed, 1 failed\n'), { passed: 9, failed: 1 });
  });

  it('reports no counts for a step that prints none (a build, a type check)', () => {
    assert.equal(countTests('Building...\nOutput location: dist/realtime\n'), undefined);
  });
});
