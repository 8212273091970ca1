/**
 * The live app in a real browser against the real gateway process serving the built app:
 * admin and customer side by side, a customer's payment moved by the simulator, logout across tabs and devices.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ADMIN, ALICE, BOB, changeStatus, createPayment, login } from './support/api.ts';
import { collectPageErrors, launchBrowser, newDevice, row, signIn, waitForConnection } from './support/browser.ts';
import { ensureAppBuilt } from './support/build.ts';
import { startDemoGateway, type DemoGateway } from './support/gateway.ts';
import { resultsDir } from './support/paths.ts';

let browser: Browser;
before(async () => {
  await ensureAppBuilt();
  mkdirSync(resultsDir, { recursive: true });
  browser = await launchBrowser();
});

describe('admin and customer, simulator off', { timeout: 60_000 }, () => {
  let gateway: DemoGateway;
  before(async () => {
    gateway = await startDemoGateway({ SIMULATOR_INTERVAL_MS: '0' });
  });
  after(() => gateway.stop());

  it("shows an admin's status change on the customer's page within a second, without a reload", async () => {
    const alice = await login(gateway.url, ALICE.email, ALICE.password);
    const created = await createPayment(gateway.url, alice.accessToken, 'Concert tickets', '89.90');

    const customerDevice = await newDevice(browser, gateway.url);
    const adminDevice = await newDevice(browser, gateway.url);
    try {
      const customer = await customerDevice.newPage();
      const customerErrors = collectPageErrors(customer);
      await signIn(customer, 'Alice Customer');
      await waitForConnection(customer, 'connected');
      await row(customer, created.paymentId, 'pending').waitFor();
      await customer.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));

      const admin = await adminDevice.newPage();
      await signIn(admin, 'Ada Admin');
      await waitForConnection(admin, 'connected');

      for (const [action, status] of [
        ['Start processing', 'processing'],
        ['Complete', 'completed'],
        ['Refund', 'refunded'],
      ] as const) {
        const button = row(admin, created.paymentId).getByRole('button', { name: `${action}: Concert tickets` });
        await button.click();
        const clickedAt = Date.now();
        // Within a second of the admin's click, on a page nobody touched.
        await row(customer, created.paymentId, status).waitFor({ timeout: 1000 });
        const latency = Date.now() - clickedAt;
        assert.ok(latency < 1000, `customer saw ${status} after ${latency} ms`);
        // Visibly highlighted, with what it was before.
        assert.match((await row(customer, created.paymentId).getAttribute('class')) ?? '', /row--changed/);
        await row(admin, created.paymentId, status).waitFor();
      }
      // Only legal next states are offered: a refunded payment has none.
      assert.equal(await row(admin, created.paymentId).getByRole('button').count(), 0);
      // The terminal states reached the customer as notifications too.
      await customer.getByRole('region', { name: 'Notifications' }).getByText('Payment refunded').waitFor();

      // An announcement from the admin reaches the customer as a banner.
      await admin.getByLabel('Message').fill('Maintenance tonight at 22:00 UTC');
      await admin.getByLabel('Level').selectOption('warning');
      await admin.getByRole('button', { name: 'Send' }).click();
      await customer.getByRole('alert').filter({ hasText: 'Maintenance tonight at 22:00 UTC' }).waitFor({ timeout: 2000 });

      assert.equal(await customer.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument), true, 'the customer page was reloaded');
      assert.deepEqual(customerErrors, []);
    } finally {
      await Promise.all([customerDevice.close(), adminDevice.close()]);
    }
  });

  it("logout in one tab takes the user's other tabs, and other devices, to the login page", async () => {
    const laptop = await newDevice(browser, gateway.url);
    const phone = await newDevice(browser, gateway.url);
    const other = await newDevice(browser, gateway.url);
    try {
      const tab1 = await laptop.newPage();
      await signIn(tab1, 'Bob Customer');
      const tab2 = await laptop.newPage(); // same browser: shares the login
      await tab2.goto('/');
      await tab2.getByRole('heading', { level: 1, name: 'Your payments' }).waitFor();
      await waitForConnection(tab2, 'connected');
      const phonePage = await phone.newPage(); // another device: its own login
      await signIn(phonePage, 'Bob Customer');
      await waitForConnection(phonePage, 'connected');
      const alicePage = await other.newPage(); // another user: unaffected
      await signIn(alicePage, 'Alice Customer');
      await waitForConnection(alicePage, 'connected');

      await tab1.getByRole('button', { name: 'Sign out' }).click();
      await tab1.getByRole('heading', { name: 'Sign in' }).waitFor();
      await tab2.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: 3000 });
      await phonePage.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: 3000 });
      await phonePage.getByText('You were signed out in another tab or on another device.').waitFor();
      assert.equal(new URL(tab2.url()).pathname, '/login');
      assert.equal(new URL(phonePage.url()).pathname, '/login');

      // Alice is still signed in and live.
      await waitForConnection(alicePage, 'connected');
      assert.equal(new URL(alicePage.url()).pathname, '/');

      // Signing in again in one tab brings the other tab of that browser back too.
      await tab1.getByRole('button', { name: /^Sign in as Bob Customer/ }).click();
      await tab2.getByRole('heading', { level: 1, name: 'Your payments' }).waitFor({ timeout: 3000 });
      await waitForConnection(tab2, 'connected');
    } finally {
      await Promise.all([laptop.close(), phone.close(), other.close()]);
    }
  });
  it('the admin dashboard with every payment live (screenshot artifact)', async () => {
    const alice = await login(gateway.url, ALICE.email, ALICE.password);
    const bob = await login(gateway.url, BOB.email, BOB.password);
    const admin = await login(gateway.url, ADMIN.email, ADMIN.password);
    const arranged: Array<[typeof alice, string, string, string[]]> = [
      [alice, 'Office chairs', '249.00', ['processing', 'completed', 'refunded']],
      [bob, 'Team lunch', '86.40', ['processing', 'failed']],
      [alice, 'Annual software licence', '1200.00', ['processing', 'completed']],
      [bob, 'Train tickets', '57.20', ['processing', 'completed']],
      [alice, 'Cloud hosting, March', '318.75', ['processing']],
    ];
    for (const [who, what, amount, steps] of arranged) {
      const p = await createPayment(gateway.url, who.accessToken, what, amount);
      for (const status of steps) await changeStatus(gateway.url, admin.accessToken, p.paymentId, status);
    }
    const device = await newDevice(browser, gateway.url);
    const aliceDevice = await newDevice(browser, gateway.url);
    try {
      const page = await device.newPage();
      await signIn(page, 'Ada Admin');
      await waitForConnection(page, 'connected');
      // Alice has the app open elsewhere: her rows say she is online, bob's that he is not.
      const alicePage = await aliceDevice.newPage();
      await signIn(alicePage, 'Alice Customer');
      await waitForConnection(alicePage, 'connected');
      const aliceRows = page.locator('tr[data-payment-id]').filter({ has: page.locator('td.customer', { hasText: 'alice' }) });
      await aliceRows.first().locator('.presence[data-presence="online"]').waitFor();
      await page.getByLabel('Message').fill('Scheduled maintenance on Sunday, 02:00 to 03:00 UTC');
      await page.getByRole('button', { name: 'Send' }).click();
      await page.getByRole('status').filter({ hasText: 'Scheduled maintenance' }).first().waitFor();
      await page.getByLabel('Message').fill('');
      // Two live changes while we watch: a new payment, and one moving on.
      const fresh = await createPayment(gateway.url, bob.accessToken, 'Conference booth deposit', '3500.00');
      await row(page, fresh.paymentId, 'pending').waitFor();
      const moving = (await page.locator('tr[data-payment-id]').filter({ hasText: 'Cloud hosting, March' }).getAttribute('data-payment-id'))!;
      await changeStatus(gateway.url, admin.accessToken, moving, 'completed');
      await row(page, moving, 'completed').waitFor();
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      await page.setViewportSize({ width: 1280, height: 1110 });
      await page.screenshot({ path: `${resultsDir}/dashboard.png` });
      assert.equal(await page.locator('tr[data-payment-id]').count(), 7);
      assert.equal(await aliceRows.locator('.presence[data-presence="online"]').count(), await aliceRows.count());
      assert.equal(await page.locator('tr[data-payment-id] .presence[data-presence="online"]').count(), await aliceRows.count());
    } finally {
      await Promise.all([device.close(), aliceDevice.close()]);
    }
  });
});

describe('customer with the simulator on', { timeout: 60_000 }, () => {
  let gateway: DemoGateway;
  before(async () => {
    gateway = await startDemoGateway({ SIMULATOR_INTERVAL_MS: '700' });
  });
  after(() => gateway.stop());

  it('a customer creates a payment and watches it go pending → processing → completed or failed', async () => {
    const device = await newDevice(browser, gateway.url);
    try {
      const page = await device.newPage();
      const errors = collectPageErrors(page);
      await signIn(page, 'Alice Customer');
      await waitForConnection(page, 'connected');
      // The app's stylesheet applies under the gateway's Content-Security-Policy (no inline handler loads it).
      const createButton = page.getByRole('button', { name: 'Create payment' });
      assert.equal(await createButton.evaluate((button) => getComputedStyle(button).color), 'rgb(255, 255, 255)', 'the app is styled');

      // Record every status the row shows, in the page, so that short-lived states are not missed.
      await page.evaluate(() => {
        const seen: string[] = [];
        (window as unknown as { __seen: string[] }).__seen = seen;
        new MutationObserver(() => {
          const status = document.querySelector('tr[data-payment-id]')?.getAttribute('data-status');
          if (status && seen.at(-1) !== status) seen.push(status);
        }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
      });

      await page.getByLabel('Amount').fill('42.00');
      await page.getByLabel('Currency').selectOption('CHF');
      await page.getByLabel('Description').fill('Swiss chocolate');
      await page.getByRole('button', { name: 'Create payment' }).click();

      const created = page.locator('tr[data-payment-id]').filter({ hasText: 'Swiss chocolate' });
      await created.waitFor();
      const paymentId = await created.getAttribute('data-payment-id');
      assert.ok(paymentId);
      assert.match((await created.textContent()) ?? '', /CHF\s?42\.00/);
      await row(page, paymentId, 'processing').waitFor({ timeout: 5000 });
      await page.locator(`tr[data-payment-id="${paymentId}"]:is([data-status="completed"], [data-status="failed"])`).waitFor({ timeout: 5000 });
      const seen = await page.evaluate(() => (window as unknown as { __seen: string[] }).__seen);
      assert.deepEqual(seen.slice(0, 2), ['pending', 'processing']);
      assert.match(seen[2] ?? '', /^(completed|failed)$/);
      // The terminal state also came as a toast.
      await page.getByRole('region', { name: 'Notifications' }).getByText(/Payment (completed|failed)/).waitFor();
      assert.deepEqual(errors, []);
    } finally {
      await device.close();
    }
  });
});
