#!/usr/bin/env node
// `npm run bench:token-refresh`: in-band token refresh over a long run, end to end. The demo gateway
// (a real process, ACCESS_TOKEN_TTL_SECONDS=5) serves the built app; Chromium signs in three users
// (two tabs each, so six sockets); for two minutes every tab refreshes its 5-second token on its
// open socket. The gateway's own counters then say how many sockets it closed for an expired token
// (4001: the target is 0), how many it opened (no reconnect: one per tab), how many tokens it took
// in-band, and how many resumes it served. Exits 1 when a socket was closed by token expiry.
//
//   npm run bench:token-refresh [-- --seconds 120 --ttl 5 --tabs 2]
//
// Needs the built app (dist/shell/browser; built first when missing) and Debian's Chromium.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { ROOT, sleep } from './lib/harness.mjs';

const { CHROMIUM_FLAGS, CHROMIUM_PATH } = createRequire(import.meta.url)('../testing/chromium.js');
const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '120' },
    ttl: { type: 'string', default: '5' },
    tabs: { type: 'string', default: '2' },
    out: { type: 'string', default: join(ROOT, 'bench', 'results') },
  },
});
const seconds = Number(flags.seconds);
const tabsPerUser = Number(flags.tabs);
const ACCOUNTS = ['Alice Customer', 'Bob Customer', 'Ada Admin'];
const log = (/** @type {unknown[]} */ ...args) => console.error(`[token-refresh ${new Date().toISOString().slice(11, 19)}]`, ...args);
const appDir = join(ROOT, 'dist', 'shell', 'browser');

function buildAppIfMissing() {
  if (existsSync(join(appDir, 'index.html'))) return;
  log('building the app (npm run build:lib, ng build shell)');
  for (const args of [['run', '-s', 'build:lib'], ['exec', '--', 'ng', 'build', 'shell']]) {
    const result = spawnSync('npm', args, { cwd: ROOT, stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`npm ${args.join(' ')} failed`);
  }
}

/** The demo gateway as `npm start` runs it, with 5-second access tokens; resolves with its URL. */
async function startGateway() {
  const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/src/demo.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      JWT_SECRET: randomBytes(32).toString('hex'),
      ACCESS_TOKEN_TTL_SECONDS: flags.ttl,
      SIMULATOR_INTERVAL_MS: '0',
      STATIC_DIR: appDir,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  /** @type {string} */
  const url = await new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      const line = buffered.split('\n').find((l) => l.includes('"url"'));
      if (line) resolve(JSON.parse(line).url);
    });
    child.once('exit', (code) => reject(new Error(`the gateway exited (${code}) before listening`)));
  });
  child.stdout.resume();
  return { url, stop: () => child.kill('SIGTERM') };
}

/** The gateway's counters (GET /metrics answers loopback clients without a token). */
async function counters(/** @type {string} */ url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const sum = (/** @type {string} */ name, labels = '') => {
    let total = 0;
    for (const match of text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\d+)$`, 'gm'))) {
      if ((match[1] ?? '').includes(labels)) total += Number(match[2]);
    }
    return total;
  };
  return {
    tokenExpiryCloses: sum('gateway_token_expiry_closes_total'),
    connectionsOpened: sum('gateway_connections_opened_total'),
    renewalsAccepted: sum('gateway_token_renewals_total', 'outcome="accepted"'),
    renewalsRefused: sum('gateway_token_renewals_total') - sum('gateway_token_renewals_total', 'outcome="accepted"'),
    // Replays and refusals: a position request (`resume {}` before a socket's first event) replays nothing.
    resumes: sum('gateway_resumes_total') - sum('gateway_resumes_total', 'outcome="position"'),
  };
}

async function main() {
  buildAppIfMissing();
  const gateway = await startGateway();
  log(`gateway at ${gateway.url}, access tokens of ${flags.ttl} s`);
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_FLAGS] });
  try {
    const tabs = [];
    for (const account of ACCOUNTS) {
      const context = await browser.newContext({ baseURL: gateway.url });
      for (let i = 0; i < tabsPerUser; i++) {
        const page = await context.newPage();
        await page.goto('/');
        if (i === 0) {
          await page.getByRole('button', { name: new RegExp(`^Sign in as ${account}`) }).click();
        }
        await page.locator('.conn[data-state="connected"]').waitFor({ timeout: 20_000 });
        // Counts the tab's connection-state changes from now on, in the page.
        await page.evaluate(`
          window.__changes = 0;
          new MutationObserver(() => window.__changes++).observe(document.querySelector('.conn'), { attributes: true, attributeFilter: ['data-state'] });
        `);
        tabs.push({ account, page });
      }
    }
    const before = await counters(gateway.url);
    log(`${tabs.length} tabs connected; running ${seconds} s`);
    await sleep(seconds * 1000);
    const after = await counters(gateway.url);
    const stateChanges = await Promise.all(tabs.map(({ page }) => page.evaluate('window.__changes')));
    const result = {
      seconds,
      tokenTtlSeconds: Number(flags.ttl),
      sockets: tabs.length,
      tokenExpiryCloses: after.tokenExpiryCloses - before.tokenExpiryCloses,
      socketsOpened: after.connectionsOpened - before.connectionsOpened,
      renewalsAccepted: after.renewalsAccepted - before.renewalsAccepted,
      renewalsRefused: after.renewalsRefused - before.renewalsRefused,
      resumes: after.resumes - before.resumes,
      tabStateChanges: stateChanges.reduce((a, b) => a + b, 0),
    };
    mkdirSync(flags.out, { recursive: true });
    writeFileSync(join(flags.out, 'token-refresh.json'), JSON.stringify(result, null, 2));
    console.log(
      [
        `In-band token refresh: ${result.sockets} sockets (${ACCOUNTS.length} users × ${tabsPerUser} tabs), ${seconds} s, ${flags.ttl}-second access tokens`,
        `| sockets closed by token expiry (4001) | ${result.tokenExpiryCloses} |`,
        `| sockets opened meanwhile (reconnects) | ${result.socketsOpened} |`,
        `| tokens renewed in-band (accepted) | ${result.renewalsAccepted} |`,
        `| in-band refusals | ${result.renewalsRefused} |`,
        `| resumes (replays) | ${result.resumes} |`,
        `| connection-state changes seen by the tabs | ${result.tabStateChanges} |`,
      ].join('\n'),
    );
    process.exitCode = result.tokenExpiryCloses === 0 ? 0 : 1;
  } finally {
    await browser.close();
    gateway.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
