/**
 * Presence in real browsers against the real gateway process serving the built app: an admin sees a customer come
 * online and go offline on the dashboard, and sees who else has a payment's page open.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { ALICE, createPayment, login } from './support/api.ts';
import { collectPageErrors, launchBrowser, newDevice, row, signIn, waitForConnection } from './support/browser.ts';
import { ensureAppBuilt } from './support/build.ts';
import { startDemoGateway, type DemoGateway } from './support/gateway.ts';

let browser: Browser;
before(async () => {
  await ensureAppBuilt();
  browser = await launchBrowser();
});

/** The customer's presence in a dashboard row: `online`, `offline` (or `unknown` before the first list). */
function presenceOf(page: Page, paymentId: string, state: 'online' | 'offline'): Locator {
  return row(page, paymentId).locator(`.presence[data-presence="${state}"]`);
}

describe('presence', { timeout: 60_000 }, () => {
  let gateway: DemoGateway;
  let paymentId: string;
  before(async () => {
    gateway = await startDemoGateway({ SIMULATOR_INTERVAL_MS: '0' });
    const alice = await login(gateway.url, ALICE.email, ALICE.password); // over HTTP: no socket, so not online
    paymentId = (await createPayment(gateway.url, alice.accessToken, 'Bike repair', '45.00')).paymentId;
  });
  after(() => gateway.stop());

  it('an admin sees alice come online when she signs in, and go offline when she signs out or closes her tab', async () => {
    const adminDevice = await newDevice(browser, gateway.url);
    const aliceDevice = await newDevice(browser, gateway.url);
    try {
      const admin = await adminDevice.newPage();
      const errors = collectPageErrors(admin);
      await signIn(admin, 'Ada Admin');
      await waitForConnection(admin, 'connected');
      await presenceOf(admin, paymentId, 'offline').waitFor();
      // What a screen reader reads: the label's layout (an inline flex of dot and word) must not matter here.
      const customerCell = await row(admin, paymentId).locator('td.customer').textContent();
      assert.equal(customerCell?.replace(/\s+/g, ' ').trim(), 'alice offline');

      const alice = await aliceDevice.newPage();
      await signIn(alice, 'Alice Customer');
      await waitForConnection(alice, 'connected');
      await presenceOf(admin, paymentId, 'online').waitFor({ timeout: 2000 });

      await alice.getByRole('button', { name: 'Sign out' }).click();
      await alice.getByRole('heading', { name: 'Sign in' }).waitFor();
      await presenceOf(admin, paymentId, 'offline').waitFor({ timeout: 2000 });

      await signIn(alice, 'Alice Customer');
      await presenceOf(admin, paymentId, 'online').waitFor({ timeout: 2000 });
      await alice.close(); // the tab goes away without signing out
      await presenceOf(admin, paymentId, 'offline').waitFor({ timeout: 2000 });
      assert.deepEqual(errors, []);
    } finally {
      await Promise.all([adminDevice.close(), aliceDevice.close()]);
    }
  });

  it('an admin on a payment’s page sees the customer open it too, and leave', async () => {
    const adminDevice = await newDevice(browser, gateway.url);
    const aliceDevice = await newDevice(browser, gateway.url);
    try {
      const admin = await adminDevice.newPage();
      await signIn(admin, 'Ada Admin');
      await row(admin, paymentId).getByRole('link', { name: 'Bike repair' }).click();
      await admin.getByRole('heading', { level: 1, name: 'Bike repair' }).waitFor();
      const adminViewers = admin.getByRole('status', { name: 'Also viewing' });
      await adminViewers.getByText('Nobody else is looking at this payment.').waitFor();

      const alice = await aliceDevice.newPage();
      await signIn(alice, 'Alice Customer');
      await alice.goto(`/payments/${paymentId}`);
      await alice.getByRole('heading', { level: 1, name: 'Bike repair' }).waitFor();
      await alice.getByRole('status', { name: 'Also viewing' }).getByText('admin_1').waitFor();
      await adminViewers.locator('.viewer[data-user-id="alice"]').waitFor({ timeout: 2000 });
      assert.match(await adminViewers.innerText(), /Also looking at this payment:\s+alice \(customer\)/);

      await alice.getByRole('link', { name: '← All payments' }).click();
      await adminViewers.getByText('Nobody else is looking at this payment.').waitFor({ timeout: 2000 });
    } finally {
      await Promise.all([adminDevice.close(), aliceDevice.close()]);
    }
  });
});
