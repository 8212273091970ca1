/**
 * The connection under stress, in a real browser against the real gateway process:
 * the gateway crashes and comes back on the same port; the access token expires while the page is open (and is
 * refreshed on the open socket).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, WebSocket } from 'playwright-core';
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

  it('is refreshed on the open socket (in-band): no close, no second socket, invisible to the user', async () => {
    const device = await newDevice(browser, gateway.url);
    try {
      const page = await device.newPage();
      const errors = collectPageErrors(page);
      await recordConnectionStates(page);
      const sockets: WebSocket[] = [];
      page.on('websocket', (socket) => sockets.push(socket));
      let authSent = 0;
      let authenticated = 0;
      page.on('websocket', (socket) => {
        socket.on('framesent', ({ payload }) => void (String(payload).startsWith('{"type":"auth"') && authSent++));
        socket.on('framereceived', ({ payload }) => void (String(payload).startsWith('{"type":"authenticated"') && authenticated++));
      });
      await signIn(page, 'Alice Customer');
      await waitForConnection(page, 'connected');
      const stored = () => page.evaluate(() => JSON.parse(localStorage.getItem('payments.session')!).accessToken as string);
      const tokenAtLogin = await stored();

      // Two refreshes: by the second the login's token has expired, and the first one's auth has been answered.
      for (let previous = tokenAtLogin, round = 0; round < 2; round++) {
        await page.waitForFunction((token) => JSON.parse(localStorage.getItem('payments.session')!).accessToken !== token, previous, {
          timeout: TTL_SECONDS * 1000 + 5000,
        });
        previous = await stored();
      }
      assert.ok(authenticated >= 1 && authSent >= authenticated, `auth sent ${authSent}, authenticated ${authenticated}`);
      assert.equal(sockets.length, 1, 'one socket all along');
      assert.equal(sockets[0]!.isClosed(), false);
      const states = (await connectionStates(page)).map((s) => s.state);
      assert.deepEqual(states, ['connecting', 'connected'], `states recorded: ${states.join(' → ')}`);
      assert.equal(new URL(page.url()).pathname, '/', 'still on the dashboard');

      // Live updates flow on the same socket, and HTTP calls made with an expired token are refreshed too.
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
