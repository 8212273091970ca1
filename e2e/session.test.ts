/**
 * The edges of a login session, in a real browser against the real gateway process: the demo restarted with a new
 * secret (every session gone) while a tab is open, and signing out and in again in one tab.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { BOB, createPayment, login } from './support/api.ts';
import { collectPageErrors, connection, launchBrowser, newDevice, row, signIn, waitForConnection } from './support/browser.ts';
import { ensureAppBuilt } from './support/build.ts';
import { startDemoGateway, type DemoGateway } from './support/gateway.ts';

let browser: Browser;
before(async () => {
  await ensureAppBuilt();
  browser = await launchBrowser();
});

describe('the demo restarts with a new secret while a tab is open', { timeout: 60_000 }, () => {
  let gateway: DemoGateway;
  before(async () => {
    gateway = await startDemoGateway({ SIMULATOR_INTERVAL_MS: '0' });
  });
  after(() => gateway.stop());

  it('reconnects quietly while the gateway is down, then signs out with a clear message within seconds', async () => {
    const device = await newDevice(browser, gateway.url);
    try {
      const page = await device.newPage();
      const errors = collectPageErrors(page);
      const refreshes: number[] = [];
      page.on('request', (request) => {
        if (new URL(request.url()).pathname === '/api/auth/refresh') refreshes.push(Date.now());
      });
      await signIn(page, 'Alice Customer');
      await waitForConnection(page, 'connected');

      await gateway.stop(); // what stopping `npm start` does (1001 to every socket)
      // Down: handshakes fail and nobody answers the check. That is an outage: reconnect, never refresh or sign out.
      await page.getByRole('status', { name: 'Connection' }).filter({ hasText: '(attempt 2)' }).waitFor({ timeout: 10_000 });
      assert.deepEqual(refreshes, [], 'no token refresh while the gateway is down');
      assert.equal(new URL(page.url()).pathname, '/');

      // `npm start` again: a new secret, sessions gone. The stored token has not expired, but the gateway refuses it.
      await gateway.restart({ JWT_SECRET: 'e2e-restarted-secret-fedcba9876543210fedcba9876543210' });
      const restartedAt = Date.now();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: 15_000 });
      await page.getByText('Your session has ended. Please sign in again.').waitFor();
      const tookMs = Date.now() - restartedAt;
      assert.equal(new URL(page.url()).pathname, '/login');
      assert.equal(refreshes.length, 1, `one refresh, refused: ${refreshes.length}`);
      assert.ok(tookMs < 15_000, `signed out ${tookMs} ms after the restart`);
      assert.deepEqual(errors, []);
    } finally {
      await device.close();
    }
  });
});

describe('signing out and in again in one tab', { timeout: 60_000 }, () => {
  let gateway: DemoGateway;
  before(async () => {
    gateway = await startDemoGateway({ SIMULATOR_INTERVAL_MS: '0' });
  });
  after(() => gateway.stop());

  it("starts the new session live, without replaying the previous session's own logout", async () => {
    const device = await newDevice(browser, gateway.url);
    try {
      const page = await device.newPage();
      const errors = collectPageErrors(page);
      const sockets: string[] = [];
      page.on('websocket', (socket) => sockets.push(socket.url()));
      await signIn(page, 'Bob Customer');
      await waitForConnection(page, 'connected');
      // An event, so that the tab has a resume position in this session.
      const bob = await login(gateway.url, BOB.email, BOB.password);
      const first = await createPayment(gateway.url, bob.accessToken, 'Before signing out', '4.00');
      await row(page, first.paymentId, 'pending').waitFor();

      await page.getByRole('button', { name: 'Sign out' }).click(); // the gateway publishes session:sync logout
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await page.getByRole('button', { name: /^Sign in as Bob Customer/ }).click();
      await page.getByRole('heading', { level: 1, name: 'Your payments' }).waitFor();
      await waitForConnection(page, 'connected');

      // A live event after the new socket opened: any replay would have come before it.
      const again = await login(gateway.url, BOB.email, BOB.password);
      const second = await createPayment(gateway.url, again.accessToken, 'After signing in again', '5.00');
      await row(page, second.paymentId, 'pending').waitFor({ timeout: 3000 });
      assert.equal(new URL(page.url()).pathname, '/', 'still signed in');
      assert.equal(await page.getByText('You were signed out in another tab or on another device.').count(), 0);
      assert.match((await connection(page).getAttribute('data-state')) ?? '', /^connected$/);
      assert.equal(sockets.length, 2);
      assert.doesNotMatch(sockets[1]!, /since=/, 'the new session does not resume the old one');
      assert.deepEqual(errors, []);
    } finally {
      await device.close();
    }
  });
});
