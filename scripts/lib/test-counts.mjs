// Test counts from the closing lines of node's test runner (spec reporter), of Karma's summary
// reporter (karma.conf.js) and of the consumer check, for the summary that `npm test` prints.

/** @param {string} output @returns {{ passed: number, failed: number } | undefined} */
export function countTests(output) {
  let passed = 0;
  let failed = 0;
  let found = false;
  for (const line of output.split('\n')) {
    const plain = line.replace(/\x1b\[[0-9;]*m/g, '').trim();
    let match;
    if ((match = /^ℹ pass (\d+)$/.exec(plain))) {
      passed += Number(match[1]);
      found = true;
    } else if ((match = /^ℹ fail (\d+)$/.exec(plain))) {
      failed += Number(match[1]);
      found = true;
    } else if ((match = /^(?:karma|consumer): (\d+) passed, (\d+) failed/.exec(plain))) {
      passed += Number(match[1]);
      failed += Number(match[2]);
      found = true;
    }
  }
  return found ? { passed, failed } : undefined;
}
