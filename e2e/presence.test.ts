/**
 * Presence in real browsers against the real gateway process serving the built app: an admin sees a customer come
 * online and go offline on the dashboard, and sees who else has a payment's page open. The demo shares one socket
 * between the tabs of a browser: watches are counted across the admin's tabs, and a customer whose tabs hand their
 * socket over stays online for the admin.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { ALICE, createPayment, login } from './support/api.ts';
import {
  collectPageErrors,
  launchBrowser,
  newDevice,
  reconnectedAfter,
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

/** Tabs of one device on the dashboard, the first signed in as `account`, the others sharing its login. */
async function dashboardTabs(device: BrowserContext, account: 'Ada Admin' | 'Alice Customer', count: number) {
  const tabs: Array<{ page: Page; socketOpen: () => boolean }> = [];
  for (let i = 0; i < count; i++) {
    const page = await device.newPage();
    await recordConnectionStates(page);
    const sockets: boolean[] = [];
    page.on('websocket', (socket) => {
      const n = sockets.push(true) - 1;
      socket.on('close', () => (sockets[n] = false));
    });
    if (i === 0) await signIn(page, account);
    else await page.goto('/');
    await waitForConnection(page, 'connected');
    tabs.push({ page, socketOpen: () => sockets.some(Boolean) });
  }
  return tabs;
}

/** The tab holding the browser's one socket (the owner). */
function ownerIndex(tabs: ReadonlyArray<{ socketOpen: () => boolean }>): number {
  const owners = tabs.flatMap((tab, i) => (tab.socketOpen() ? [i] : []));
  assert.equal(owners.length, 1, `one tab has an open socket, not ${owners.length}`);
  return owners[0]!;
}

/** Records, in the page, every presence a dashboard row shows, with the time it started showing. */
async function recordPresence(page: Page, paymentId: string): Promise<void> {
  // A string, not a function: tsx's esbuild would wrap named inner functions in a `__name` helper the page lacks.
  await page.evaluate(`
    window.__presence = [];
    const read = () => document.querySelector('tr[data-payment-id="${paymentId}"] .presence')?.getAttribute('data-presence') ?? '';
    let last = read();
    window.__presence.push({ state: last, at: Date.now() });
    new MutationObserver(() => {
      const state = read();
      if (state !== last) window.__presence.push({ state: (last = state), at: Date.now() });
    }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-presence'] });
  `);
}

function presenceTimeline(page: Page): Promise<Array<{ state: string; at: number }>> {
  return page.evaluate(() => (window as unknown as { __presence: Array<{ state: string; at: number }> }).__presence);
}

/** Waits until the gateway (its /api/health) keeps no closed socket present for a hand-over any more. */
async function handOversSettled(gateway: DemoGateway): Promise<void> {
  for (;;) {
    const health = (await (await fetch(`${gateway.url}/api/health`)).json()) as { presenceHandOvers: number };
    if (health.presenceHandOvers === 0) return;
    await sleep(25);
  }
}

describe('presence with the tabs of a browser sharing one socket', { timeout: 60_000 }, () => {
  let gateway: DemoGateway;
  let paymentId: string;
  before(async () => {
    gateway = await startDemoGateway({ SIMULATOR_INTERVAL_MS: '0' });
    const alice = await login(gateway.url, ALICE.email, ALICE.password);
    paymentId = (await createPayment(gateway.url, alice.accessToken, 'Shared watch', '12.00')).paymentId;
  });
  after(() => gateway.stop());

  it('two tabs of an admin watch alice: when one stops watching or closes, the other still sees her changes', async () => {
    const adminDevice = await newDevice(browser, gateway.url);
    const aliceDevice = await newDevice(browser, gateway.url);
    try {
      const tabs = await dashboardTabs(adminDevice, 'Ada Admin', 2);
      for (const { page } of tabs) await presenceOf(page, paymentId, 'offline').waitFor();
      const owner = ownerIndex(tabs);
      const [kept, other] = [tabs[owner]!.page, tabs[1 - owner]!.page];

      // The other tab leaves the dashboard: its watch of alice ends; the owner tab's goes on.
      await row(other, paymentId).getByRole('link', { name: 'Shared watch' }).click();
      await other.getByRole('heading', { level: 1, name: 'Shared watch' }).waitFor();
      const alice = await aliceDevice.newPage();
      await signIn(alice, 'Alice Customer');
      await presenceOf(kept, paymentId, 'online').waitFor({ timeout: 2000 });

      // Back on the dashboard it watches again; then the owner tab closes: the other one owns the socket now.
      await other.getByRole('link', { name: '← All payments' }).click();
      await presenceOf(other, paymentId, 'online').waitFor({ timeout: 2000 });
      const closedAt = Date.now();
      await kept.close();
      await reconnectedAfter(other, closedAt);
      await alice.getByRole('button', { name: 'Sign out' }).click();
      await presenceOf(other, paymentId, 'offline').waitFor({ timeout: 2000 });
      await signIn(alice, 'Alice Customer');
      await presenceOf(other, paymentId, 'online').waitFor({ timeout: 2000 });
    } finally {
      await Promise.all([adminDevice.close(), aliceDevice.close()]);
    }
  });

  for (const how of ['closes', 'crashes'] as const) {
    it(`shows what an admin sees of alice while her owner tab ${how} and another of her tabs takes the socket over`, async () => {
      const adminDevice = await newDevice(browser, gateway.url);
      const aliceDevice = await newDevice(browser, gateway.url);
      try {
        const [admin] = await dashboardTabs(adminDevice, 'Ada Admin', 1);
        const aliceTabs = await dashboardTabs(aliceDevice, 'Alice Customer', 2);
        await presenceOf(admin!.page, paymentId, 'online').waitFor({ timeout: 2000 });
        await recordPresence(admin!.page, paymentId);
        const owner = aliceTabs[ownerIndex(aliceTabs)]!;
        const next = aliceTabs.find((tab) => tab !== owner)!;

        const goneAt = Date.now();
        if (how === 'closes') await owner.page.close();
        else void (await aliceDevice.newCDPSession(owner.page)).send('Page.crash').catch(() => undefined);
        const handover = await reconnectedAfter(next.page, goneAt);
        await handOversSettled(gateway); // the closed socket's grace is over: a left, if any, has been sent
        // One more change through the same watch: it arrives after anything the hand-over made the gateway send.
        await next.page.getByRole('button', { name: 'Sign out' }).click();
        await presenceOf(admin!.page, paymentId, 'offline').waitFor({ timeout: 2000 });

        // The changes since recording began (the first entry is the state then); the last one is the sign-out's offline.
        const timeline = (await presenceTimeline(admin!.page)).slice(1);
        assert.equal(timeline.at(-1)?.state, 'offline', 'the sign-out shows');
        const flicker = timeline.slice(0, -1);
        const offlineMs = flicker.reduce((ms, s, i) => (s.state === 'offline' ? ms + ((timeline[i + 1]?.at ?? s.at) - s.at) : ms), 0);
        console.log(
          `# presence while alice's owner tab ${how}: hand-over ${handover} ms; the admin saw ${flicker.length ? flicker.map((s) => `${s.state} at +${s.at - goneAt} ms`).join(', ') : 'no change'} (offline ${offlineMs} ms)`,
        );
        if (how === 'closes') {
          // The tab closes with 4010 (handed over): the gateway keeps alice present until the next tab's socket is in.
          assert.deepEqual(flicker, [], 'alice stayed online for the admin');
        } else {
          // A crashed tab says nothing (the browser closes its socket with 1001, as for any page it unloads): the gateway
          // cannot tell it from the last tab going, so alice is offline until the next tab's socket is in, then online.
          assert.ok(flicker.length === 0 || flicker.at(-1)!.state === 'online', `back online before the sign-out: ${JSON.stringify(flicker)}`);
          assert.ok(offlineMs <= handover + 1000, `offline ${offlineMs} ms, hand-over ${handover} ms`);
        }
      } finally {
        await Promise.all([adminDevice.close(), aliceDevice.close()]);
      }
    });
  }
});
