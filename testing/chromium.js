// Debian's Chromium as every browser test launches it: Karma (karma.conf.js) and the end-to-end
// tests (e2e/support/browser.ts, through playwright-core).
'use strict';

const CHROMIUM_PATH = process.env.CHROME_BIN || '/usr/bin/chromium';

/** Headless, as root, with no background traffic and no DNS at all: only localhost and 127.0.0.1 resolve. */
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-domain-reliability',
  '--disable-client-side-phishing-detection',
  '--disable-default-apps',
  '--disable-extensions',
  '--disable-quic',
  '--no-first-run',
  '--no-default-browser-check',
  '--metrics-recording-only',
  '--no-pings',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
];

module.exports = { CHROMIUM_PATH, CHROMIUM_FLAGS };
