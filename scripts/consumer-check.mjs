#!/usr/bin/env node
// `npm run test:consumer`: the library as a team meets it. Packs dist/protocol and dist/realtime (run
// `npm run build:lib` first), installs them into a copy of consumer/ (a fresh `ng new` app) with the README's own
// install commands, builds it under the CLI's default budgets, reports what the library adds to the initial bundle,
// type-checks the Jasmine example, runs the app's Vitest specs, and resolves the same install beside Angular 22.
// Fails when a README example differs from its file, an install command, the build, a budget or a spec breaks.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installCommands, snippetProblems } from './lib/readme-snippets.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const README = join(ROOT, 'projects/realtime/README.md');
/** What wiring the service may add to a fresh app's initial bundle (kB = 1000 bytes, as the CLI prints). */
export const BUNDLE_LIMIT = { rawKb: 90, transferKb: 25 };
/** What `withSharedConnection()` may add on top of the service wiring. */
export const SHARED_LIMIT = { rawKb: 30, transferKb: 8 };
const keep = process.argv.includes('--keep');

const started = Date.now();
/** @type {Array<{ name: string, ok: boolean }>} */
const results = [];
/** @param {string} name @param {boolean} ok @param {string} [detail] */
function record(name, ok, detail = '') {
  results.push({ name, ok });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
}

/** @param {string} command @param {string[]} args @param {string} cwd @returns {Promise<{ code: number, output: string }>} */
function run(command, args, cwd) {
  console.log(`\n$ ${[command, ...args].join(' ')}   (in ${cwd})`);
  return new Promise((resolve) => {
    const env = { ...process.env, NG_CLI_ANALYTICS: 'false', CI: 'true', FORCE_COLOR: '0', NO_COLOR: '1' };
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const take = (/** @type {Buffer} */ chunk) => {
      process.stdout.write(chunk);
      output += chunk.toString('utf8');
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('close', (code) => resolve({ code: code ?? 1, output: output.replace(/\x1b\[[0-9;]*m/g, '') }));
  });
}

/** A string only the shared connection's code contains (its channel and lock names). */
const SHARED_CONNECTION_MARKER = 'payments-realtime:';
/** @type {{ rawKb: number, transferKb: number } | null} */
let lastShared = null;

/** Every JavaScript file of a build, as one string. @param {string} dir */
function browserJs(dir) {
  if (!existsSync(dir)) return '';
  return readdirSync(dir)
    .filter((name) => name.endsWith('.js'))
    .map((name) => readFileSync(join(dir, name), 'utf8'))
    .join('\n');
}

/** The CLI's "Initial total" line: raw and estimated transfer size in kB. @param {string} output */
function initialTotal(output) {
  const match = /Initial total\s*\|\s*([\d.]+) (kB|MB)\s*\|\s*([\d.]+) (kB|MB)/.exec(output);
  if (!match) return null;
  const kb = (/** @type {string} */ value, /** @type {string} */ unit) => Number(value) * (unit === 'MB' ? 1000 : 1);
  return { rawKb: kb(match[1], match[2]), transferKb: kb(match[3], match[4]) };
}

/**
 * Replaces the package names of the README's command by the packed tarballs.
 * @param {string[]} args @param {Record<string, string>} tarballs
 */
function withTarballs(args, tarballs) {
  return args.map((arg) => tarballs[arg] ?? arg);
}

/** @param {string} work a scratch folder */
async function main(work) {
  // 1. The README's examples are the files the app compiles.
  for (const readme of [README, join(ROOT, 'projects/protocol/README.md')]) {
    const problems = snippetProblems(readme, ROOT);
    for (const problem of problems) console.log(problem);
    record(`README examples equal their files (${readme.slice(ROOT.length)})`, problems.length === 0, `${problems.length} problem(s)`);
  }
  const commands = installCommands(readFileSync(README, 'utf8'));
  if (commands.length === 0) return record('the README has install commands', false);

  // 2. Pack what `npm publish` would publish.
  /** @type {Record<string, string>} */
  const tarballs = {};
  for (const name of ['protocol', 'realtime']) {
    const dist = join(ROOT, 'dist', name);
    if (!existsSync(join(dist, 'package.json'))) return record(`dist/${name} exists (npm run build:lib)`, false);
    const { code, output } = await run('npm', ['pack', '--pack-destination', work, '--json'], dist);
    if (code !== 0) return record(`npm pack dist/${name}`, false);
    tarballs[`@payments-system/${name}`] = join(work, JSON.parse(output.slice(output.indexOf('[')))[0].filename);
  }

  // 3. The app as `ng new` made it, installed from its lockfile; then the README's commands, tarballs for our names.
  const app = join(work, 'consumer');
  cpSync(join(ROOT, 'consumer'), app, { recursive: true, filter: (path) => !/[/\\](node_modules|dist|\.angular)$/.test(path) });
  if ((await run('npm', ['ci', '--no-audit', '--no-fund'], app)).code !== 0) return record('npm ci (the fresh app)', false);
  for (const command of commands) {
    const { code } = await run(command[0] ?? 'npm', [...withTarballs(command.slice(1), tarballs), '--no-audit', '--no-fund'], app);
    record(`the README's \`${command.join(' ')}\` on Angular 21`, code === 0);
    if (code !== 0) return;
  }
  // The package ships the users' guide (this README), not the repository's notes.
  const shipped = (/** @type {string} */ name) => join(app, 'node_modules/@payments-system', name, 'README.md');
  const guide = existsSync(shipped('realtime')) && readFileSync(shipped('realtime'), 'utf8') === readFileSync(README, 'utf8');
  record('the packages ship their READMEs (the users\' guide, no development notes)', guide && existsSync(shipped('protocol')));

  // 4. Build with the CLI's default budgets (a warning fails too), and without the library for the delta.
  const built = await run('npx', ['ng', 'build', '--stats-json'], app);
  const overBudget = /budget/i.test(built.output);
  record('ng build (production, default budgets)', built.code === 0 && !overBudget, overBudget ? 'a budget was exceeded' : '');
  const stats = existsSync(join(app, 'dist/consumer/stats.json')) ? JSON.parse(readFileSync(join(app, 'dist/consumer/stats.json'), 'utf8')) : { inputs: {} };
  const ngrx = Object.keys(stats.inputs).filter((path) => path.includes('node_modules/@ngrx/'));
  record('no NgRx in a service-only app', ngrx.length === 0, ngrx.slice(0, 3).join(', '));
  const baseline = await run('npx', ['ng', 'build', '--configuration', 'production,baseline'], app);
  const withLib = initialTotal(built.output);
  const without = initialTotal(baseline.output);
  if (baseline.code !== 0 || !withLib || !without) return record('ng build (the app without the library)', false);
  const delta = { rawKb: withLib.rawKb - without.rawKb, transferKb: withLib.transferKb - without.transferKb };
  const summary =
    `+${delta.rawKb.toFixed(2)} kB raw, +${delta.transferKb.toFixed(2)} kB estimated transfer ` +
    `(${without.rawKb} → ${withLib.rawKb} kB raw, ${without.transferKb} → ${withLib.transferKb} kB transfer; ` +
    `limit ${BUNDLE_LIMIT.rawKb} / ${BUNDLE_LIMIT.transferKb})`;
  record('initial bundle delta of the service wiring', delta.rawKb <= BUNDLE_LIMIT.rawKb && delta.transferKb <= BUNDLE_LIMIT.transferKb, summary);

  // withSharedConnection(): none of it where it is not used (its channel names are the marker); what it adds where it is.
  const sharedCode = browserJs(join(app, 'dist/consumer/browser')).includes(SHARED_CONNECTION_MARKER);
  record('withSharedConnection() is left out of an app that does not use it', !sharedCode);
  const sharedBuild = await run('npx', ['ng', 'build', '--configuration', 'production,shared'], app);
  const withShared = initialTotal(sharedBuild.output);
  lastShared = withShared;
  if (sharedBuild.code !== 0 || !withShared) return record('ng build (the app with withSharedConnection())', false);
  const feature = { rawKb: withShared.rawKb - withLib.rawKb, transferKb: withShared.transferKb - withLib.transferKb };
  // The marker must be found where the feature is used, or its absence above proves nothing.
  const marked = browserJs(join(app, 'dist/shared/browser')).includes(SHARED_CONNECTION_MARKER);
  record(
    'what withSharedConnection() adds to the service wiring',
    marked && feature.rawKb <= SHARED_LIMIT.rawKb && feature.transferKb <= SHARED_LIMIT.transferKb,
    `+${feature.rawKb.toFixed(2)} kB raw, +${feature.transferKb.toFixed(2)} kB estimated transfer ` +
      `(${withLib.rawKb} → ${withShared.rawKb} kB raw; limit ${SHARED_LIMIT.rawKb} / ${SHARED_LIMIT.transferKb})`,
  );

  // 5. The README's specs: Vitest (the CLI's default runner) runs; the Jasmine variant type-checks.
  record('the Jasmine example compiles', (await run('npx', ['tsc', '-p', 'tsconfig.jasmine.json'], app)).code === 0);
  const tested = await run('npx', ['ng', 'test', '--watch=false'], app);
  const vitest = /Tests\s+(?:(\d+) failed \| )?(\d+) passed/.exec(tested.output);
  record('ng test (Vitest, jsdom)', tested.code === 0, vitest ? `${vitest[2]} passed, ${vitest[1] ?? 0} failed` : 'no test summary');

  // 6. Angular 22: its CLI needs Node 22, so only the install resolution is checked here (engines relaxed).
  const ng22 = join(work, 'angular-22');
  cpSync(join(ROOT, 'consumer/angular-22.package.json'), join(ng22, 'package.json'));
  const lines22 = commands.map((command) => withTarballs(command.slice(1), tarballs).map((arg) => arg.replace(/@21$/, '@22')));
  const args22 = ['install', ...lines22.flatMap((args) => args.slice(1)), '--package-lock-only', '--ignore-scripts', '--engine-strict=false'];
  const resolved = await run('npm', [...args22, '--no-audit', '--no-fund'], ng22);
  const lock = existsSync(join(ng22, 'package-lock.json')) ? JSON.parse(readFileSync(join(ng22, 'package-lock.json'), 'utf8')).packages : {};
  const versions = ['@angular/core', '@ngrx/store', '@payments-system/realtime'].map((name) => `${name}@${lock[`node_modules/${name}`]?.version}`);
  record('the same install resolves beside Angular 22', resolved.code === 0 && /^@angular\/core@22\./.test(versions[0] ?? ''), versions.join(', '));
  writeFileSync(join(ROOT, 'dist', 'consumer-check.json'), `${JSON.stringify({ delta, withLib, without, withShared: lastShared }, null, 2)}\n`);
}

const work = mkdtempSync(join(tmpdir(), 'realtime-consumer-'));
try {
  await main(work);
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
const failed = results.filter((result) => !result.ok).length;
console.log(`\nconsumer check: ${((Date.now() - started) / 1000).toFixed(0)} s`);
console.log(`consumer: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 && results.length > 0 ? 0 : 1);
