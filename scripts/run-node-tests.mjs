#!/usr/bin/env node
// Runs node's test runner over every *.test.ts below the given folders.
// Node 20's --test neither expands globs nor discovers .ts files, so we list them here;
// an empty list is an error, never a silent "0 tests".
//   --unit     only the fast tier: *.unit.test.ts (fakes and mock timers, no port, no process)
//   --no-unit  everything but the fast tier (the integration tiers)
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const isUnit = (/** @type {string} */ name) => name.endsWith('.unit.test.ts');
const TIERS = { '--unit': isUnit, '--no-unit': (/** @type {string} */ name) => !isUnit(name) };
const args = process.argv.slice(2);
const tier = args.find((arg) => arg in TIERS);
const roots = args.filter((arg) => !(arg in TIERS));
if (roots.length === 0 || args.some((arg) => arg.startsWith('--') && !(arg in TIERS))) {
  console.error('usage: run-node-tests.mjs [--unit | --no-unit] <folder|file>...');
  process.exit(2);
}
const inTier = tier === undefined ? () => true : TIERS[/** @type {keyof typeof TIERS} */ (tier)];

/** @param {string} path @param {string[]} out */
function collect(path, out) {
  if (statSync(path).isFile()) return void out.push(path);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const child = join(path, entry.name);
    if (entry.isDirectory()) collect(child, out);
    else if (entry.name.endsWith('.test.ts') && inTier(entry.name)) out.push(child);
  }
}

/** @type {string[]} */
const files = [];
for (const root of roots) collect(root, files);
if (files.length === 0) {
  console.error(`no ${tier === '--unit' ? '*.unit.test.ts' : '*.test.ts'} files under ${roots.join(', ')}`);
  process.exit(1);
}

const reporter = process.env.TEST_REPORTER ?? 'spec';
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-reporter=${reporter}`, ...files.sort()],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
