/**
 * The connection under stress, in a real browser against the real gateway process:
 * the gateway crashes and comes back on the same port; the access token expires while the page is open.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { ADMIN, ALICE, changeStatus, createPayment, login } from './support/api.ts';
import {
  collectPageErrors,
  connectionStates,
  launchBrowser,
  newDevice,
  recordConnectionStates,
  row,
  signIn,
  waitForConnection,
} from './support/browser.ts';
import { ensureAppBuilt } from './support/build.ts';
import { startDemoGateway, type DemoGateway } from './support/gateway.ts';

let browser: Browser;
before(async () => {
  await ensureAppBuilt();
  browser = await launchBrowser();
});

describe('the gateway process is killed and restarted on the same port', { timeout: 60_000 }, () => {
  let gateway: DemoGateway;
  before(async () => {
    gateway = await startDemoGateway({ SIMULATOR_INTERVAL_MS: '0' });
  });
  after(() => gateway.stop());

  it('shows reconnecting with a countdown, then connected, and a later update arrives', async () => {
    const device = await newDevice(browser, gateway.url);
    try {
      const page = await device.newPage();
      const errors = collectPageErrors(page);
      await signIn(page, 'Alice Customer');
      await waitForConnection(page, 'connected');

      await gateway.kill(); // SIGKILL: no close frame, the browser sees the connection drop
      await waitForConnection(page, 'reconnecting', 5000);
      await page.locator('.conn [data-testid="countdown"]').filter({ hasText: /^(in \d+ s|now…)$/ }).waitFor();
      assert.match((await page.getByRole('status', { name: 'Connection' }).textContent()) ?? '', /Reconnecting/);

      await gateway.restart(); // same port, same JWT secret: the stored token is still good
      await waitForConnection(page, 'connected', 15_000);
      assert.equal(new URL(page.url()).pathname, '/', 'still on the dashboard');

      // The restarted gateway starts empty (in-memory demo store); what happens now must reach the page live.
      const alice = await login(gateway.url, ALICE.email, ALICE.password);
      const admin = await login(gateway.url, ADMIN.email, ADMIN.password);
      const created = await createPayment(gateway.url, alice.accessToken, 'After the restart', '5.00');
      await row(page, created.paymentId, 'pending').waitFor({ timeout: 3000 });
      await changeStatus(gateway.url, admin.accessToken, created.paymentId, 'processing');
      await row(page, created.paymentId, 'processing').waitFor({ timeout: 1000 });
      assert.deepEqual(errors, []);
    } finally {
      await device.close();
    }
  });
});

describe('an access token that expires during the test', { timeout: 60_000 }, () => {
  let gateway: DemoGateway;
  const TTL_SECONDS = 5;
  before(async () => {
    gateway = await startDemoGateway({ SIMULATOR_INTERVAL_MS: '0', ACCESS_TOKEN_TTL_SECONDS: String(TTL_SECONDS) });
  });
  after(() => gateway.stop());

  it('is refreshed without the socket staying down, invisibly to the user', async () => {
    const device = await newDevice(browser, gateway.url);
    try {
      const page = await device.newPage();
      const errors = collectPageErrors(page);
      await recordConnectionStates(page);
      const firstSocket = page.waitForEvent('websocket');
      await signIn(page, 'Alice Customer');
      await waitForConnection(page, 'connected');
      const socket = await firstSocket;
      const tokenAtLogin = await page.evaluate(() => JSON.parse(localStorage.getItem('payments.session')!).accessToken as string);

      // The gateway closes the socket when its token expires (4001); the app refreshes and reconnects at once.
      const secondSocket = page.waitForEvent('websocket', { timeout: (TTL_SECONDS + 5) * 1000 });
      await socket.waitForEvent('close', { timeout: (TTL_SECONDS + 5) * 1000 });
      const closedAt = Date.now();
      await secondSocket;
      await waitForConnection(page, 'connected', 2000);
      const downFor = Date.now() - closedAt;
      assert.ok(downFor < 2000, `socket down for ${downFor} ms`);

      const tokenNow = await page.evaluate(() => JSON.parse(localStorage.getItem('payments.session')!).accessToken as string);
      assert.notEqual(tokenNow, tokenAtLogin, 'the token was refreshed');
      const states = (await connectionStates(page)).map((s) => s.state);
      assert.ok(states.includes('connected'), `states recorded: ${states.join(' → ')}`);
      assert.ok(!states.includes('disconnected'), `never offline: ${states.join(' → ')}`);
      assert.equal(new URL(page.url()).pathname, '/', 'still on the dashboard');

      // Live updates flow on the new socket, and HTTP calls made with an expired token are refreshed too.
      const admin = await login(gateway.url, ADMIN.email, ADMIN.password);
      const alice = await login(gateway.url, ALICE.email, ALICE.password);
      const created = await createPayment(gateway.url, alice.accessToken, 'After the refresh', '7.00');
      await row(page, created.paymentId, 'pending').waitFor({ timeout: 2000 });
      await changeStatus(gateway.url, admin.accessToken, created.paymentId, 'processing');
      await row(page, created.paymentId, 'processing').waitFor({ timeout: 1000 });

      await page.getByLabel('Amount').fill('3.10');
      await page.getByLabel('Description').fill('Created with a refreshed token');
      await page.getByRole('button', { name: 'Create payment' }).click();
      await page.locator('tr[data-payment-id]').filter({ hasText: 'Created with a refreshed token' }).waitFor();
      assert.equal(await page.getByRole('alert').count(), 0, 'no error shown');
      assert.deepEqual(errors, []);
    } finally {
      await device.close();
    }
  });
});
