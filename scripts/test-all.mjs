#!/usr/bin/env node
// `npm test`: runs every suite, even after one fails, then prints one summary of all of them.
// A step whose prerequisite failed is reported as not run (a Karma run without the library
// build would only repeat the build's error). Exits 1 if any step failed or did not run.
import { spawn } from 'node:child_process';
import { countTests } from './lib/test-counts.mjs';

/**
 * Each step is an npm script; `needs` names steps that must have passed first.
 * @typedef {{ name: string, script: string, needs?: string[] }} Step
 * @type {Step[]}
 */
const STEPS = [
  { name: 'typecheck', script: 'typecheck' },
  { name: 'unit', script: 'test:unit' },
  { name: 'gateway', script: 'test:gateway' },
  { name: 'build:lib', script: 'build:lib' },
  { name: 'ng realtime', script: 'test:ng:realtime', needs: ['build:lib'] },
  { name: 'ng shell', script: 'test:ng:shell', needs: ['build:lib'] },
  { name: 'stack', script: 'test:stack' },
  { name: 'e2e', script: 'test:e2e', needs: ['build:lib'] },
  { name: 'consumer', script: 'test:consumer', needs: ['build:lib'] },
];

const only = process.argv.slice(2);
const unknown = only.filter((name) => !STEPS.some((step) => step.name === name));
if (unknown.length > 0) {
  console.error(`test-all: unknown step ${unknown.join(', ')}; steps: ${STEPS.map((step) => step.name).join(', ')}`);
  process.exit(2);
}
const steps = only.length === 0 ? STEPS : STEPS.filter((step) => only.includes(step.name));

/** @type {import('node:child_process').ChildProcess | undefined} */
let current;
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(signal, () => {
    current?.kill(signal);
    process.exit(130);
  });
}

/** @param {string} script @returns {Promise<{ code: number, output: string }>} */
function run(script) {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '-s', script], { stdio: ['inherit', 'pipe', 'pipe'] });
    current = child;
    let output = '';
    // Only the tail matters for the counts; keep enough for both closing blocks of a Karma run.
    const keep = (/** @type {Buffer} */ chunk) => {
      output = (output + chunk.toString('utf8')).slice(-200_000);
    };
    child.stdout.on('data', (chunk) => (process.stdout.write(chunk), keep(chunk)));
    child.stderr.on('data', (chunk) => (process.stderr.write(chunk), keep(chunk)));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

const results = [];
const passedSteps = new Set();
for (const step of steps) {
  const missing = (step.needs ?? []).filter((need) => steps.some((s) => s.name === need) && !passedSteps.has(need));
  if (missing.length > 0) {
    results.push({ step, status: 'not run', detail: `needs ${missing.join(', ')}`, seconds: 0 });
    continue;
  }
  console.log(`\n━━ npm test: ${step.name} (npm run ${step.script}) ━━`);
  const started = Date.now();
  const { code, output } = await run(step.script);
  const seconds = (Date.now() - started) / 1000;
  const counts = countTests(output);
  if (code === 0) passedSteps.add(step.name);
  results.push({ step, status: code === 0 ? 'passed' : 'FAILED', counts, seconds, code });
}
current = undefined;

let passed = 0;
let failed = 0;
console.log('\n━━ npm test: summary ━━');
for (const { step, status, counts, seconds, detail, code } of results) {
  const tests = counts ? `${counts.passed} passed, ${counts.failed} failed` : '';
  const note = detail ?? (status === 'FAILED' && counts?.failed === 0 ? `exit code ${code}` : '');
  console.log(`${step.name.padEnd(12)} ${status.padEnd(8)} ${tests.padEnd(24)} ${seconds.toFixed(0).padStart(4)} s  ${note}`.trimEnd());
  passed += counts?.passed ?? 0;
  failed += counts?.failed ?? 0;
  // A step that failed or did not run without a failing test to show for it counts as one failure.
  if (status !== 'passed' && !((counts?.failed ?? 0) > 0)) failed += 1;
}
const total = results.reduce((sum, result) => sum + result.seconds, 0);
console.log(`total ${(total / 60).toFixed(1)} min`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(results.every((result) => result.status === 'passed') ? 0 : 1);
