/**
 * One socket per browser (the demo app's `withSharedConnection()`), in real Chromium against the real gateway process:
 * the tabs of one browser context share one socket; another context (another browser) has its own; the owner tab
 * closing or freezing hands the socket over while events keep coming, and no tab misses one; a sign-out in one tab
 * signs every tab out.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
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

interface Tab {
  readonly page: Page;
  readonly errors: string[];
  /** Sockets this tab opened, open or not. */
  readonly sockets: Array<{ readonly closed: Promise<void>; isClosed(): boolean }>;
  /** `GET /api/payments` requests (a reload of the list: what the app does when events could not be replayed). */
  readonly reloads: number[];
  /** When this tab's socket received `authenticated`: an in-band refresh done. */
  readonly renewals: number[];
}

/** Tabs of one device signed in as Alice: the first signs in, the others open the app and share the login. */
async function aliceTabs(device: BrowserContext, count: number): Promise<Tab[]> {
  const tabs: Tab[] = [];
  for (let i = 0; i < count; i++) {
    const page = await device.newPage();
    await recordConnectionStates(page);
    const tab: Tab = { page, errors: collectPageErrors(page), sockets: [], reloads: [], renewals: [] };
    page.on('websocket', (socket) => {
      socket.on('framereceived', ({ payload }) => void (String(payload).startsWith('{"type":"authenticated"') && tab.renewals.push(Date.now())));
      let closed = false;
      tab.sockets.push({ closed: new Promise((resolve) => socket.on('close', () => resolve((closed = true) && undefined))), isClosed: () => closed });
    });
    page.on('request', (request) => {
      if (request.method() === 'GET' && new URL(request.url()).pathname === '/api/payments') tab.reloads.push(Date.now());
    });
    if (i === 0) {
      await signIn(page, 'Alice Customer');
    } else {
      await page.goto('/');
      await page.getByRole('heading', { level: 1, name: 'Your payments' }).waitFor();
    }
    await waitForConnection(page, 'connected');
    tabs.push(tab);
  }
  return tabs;
}

/** The tab whose socket is open (the owner). */
function ownerOf(tabs: readonly Tab[]): Tab {
  const owners = tabs.filter((t) => t.sockets.some((s) => !s.isClosed()));
  assert.equal(owners.length, 1, `one tab has an open socket, not ${owners.length}`);
  return owners[0]!;
}

/** Waits until the gateway counts `expected` sockets (its /api/health), or fails after `timeoutMs`. */
async function gatewaySockets(gateway: DemoGateway, expected: number, timeoutMs = 5000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { connections } = (await (await fetch(`${gateway.url}/api/health`)).json()) as { connections: number };
    if (connections === expected || Date.now() > deadline) return connections;
    await sleep(25);
  }
}

/** Creates Alice's payments one after another (each is a `payment:updated` event in her room) until stopped. */
function publishContinuously(gateway: DemoGateway, token: string) {
  const ids: string[] = [];
  let running = true;
  const done = (async () => {
    for (let n = 0; running; n++) {
      ids.push((await createPayment(gateway.url, token, `Continuous ${n}`, '1.00')).paymentId);
      await sleep(10); // ~60 events a second
    }
  })();
  return {
    ids,
    /** Stops, and fails when a publish failed. */
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** Every payment id the dashboard of `tab` shows. */
async function shownPayments(tab: Tab): Promise<Set<string>> {
  const ids = await tab.page.locator('tr[data-payment-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-payment-id') ?? ''));
  return new Set(ids);
}

describe('the tabs of one browser share one socket', { timeout: 60_000 }, () => {
  let gateway: DemoGateway;
  /** Publishers still running when a test fails. */
  const cleanup: Array<() => Promise<void>> = [];
  before(async () => {
    gateway = await startDemoGateway({ SIMULATOR_INTERVAL_MS: '0', PAYMENTS_PER_USER_PER_MINUTE: '100000' });
  });
  afterEach(async () => {
    await Promise.allSettled(cleanup.splice(0).map((stop) => stop()));
  });
  after(() => gateway.stop());

  it('opens one socket at the gateway for four tabs, and an event reaches all four', async () => {
    const device = await newDevice(browser, gateway.url);
    try {
      const tabs = await aliceTabs(device, 4);
      assert.equal(await gatewaySockets(gateway, 1), 1);
      assert.equal(tabs.flatMap((t) => t.sockets).length, 1, 'one WebSocket in the whole browser');
      const alice = await login(gateway.url, ALICE.email, ALICE.password);
      const created = await createPayment(gateway.url, alice.accessToken, 'Seen by every tab', '3.00');
      for (const tab of tabs) await row(tab.page, created.paymentId, 'pending').waitFor({ timeout: 2000 });
      assert.deepEqual(tabs.flatMap((t) => t.errors), []);
    } finally {
      await device.close();
    }
  });

  for (const how of ['closes', 'crashes'] as const) {
    it(`hands over within 2 s when the owner tab ${how}, while events keep coming, and no tab misses one`, async () => {
      const device = await newDevice(browser, gateway.url);
      try {
        const tabs = await aliceTabs(device, how === 'closes' ? 4 : 3);
        const owner = ownerOf(tabs);
        const rest = tabs.filter((t) => t !== owner);
        const alice = await login(gateway.url, ALICE.email, ALICE.password);
        const reloadsBefore = rest.map((t) => t.reloads.length);
        const cdp = await device.newCDPSession(owner.page);

        const publisher = publishContinuously(gateway, alice.accessToken);
        cleanup.push(() => publisher.stop());
        await sleep(500);
        const goneAt = Date.now();
        if (how === 'closes') await owner.page.close(); // pagehide: the owner resigns and releases its lock at once
        else void cdp.send('Page.crash').catch(() => undefined); // no pagehide: the browser releases its locks
        const handover = Math.max(...(await Promise.all(rest.map((t) => reconnectedAfter(t.page, goneAt)))));
        await sleep(500);
        await publisher.stop();
        const published = publisher.ids;

        for (const tab of rest) {
          await row(tab.page, published.at(-1)!).waitFor({ timeout: 2000 });
          const shown = await shownPayments(tab);
          const missing = published.filter((id) => !shown.has(id));
          assert.deepEqual(missing, [], `every published event reached the tab (${published.length} published)`);
        }
        // Every row came live: no tab had to reload the list (what it does after an event it could not get back).
        assert.deepEqual(rest.map((t) => t.reloads.length), reloadsBefore);
        assert.equal(await gatewaySockets(gateway, 1), 1);
        assert.ok(handover < 2000, `hand-over took ${handover} ms`);
        console.log(`# hand-over when the owner ${how}: ${handover} ms; ${published.length} events published through it, 0 missing, 0 reloads`);
        assert.deepEqual(rest.flatMap((t) => t.errors), []);
      } finally {
        await device.close();
      }
    });
  }

  it('replaces an owner that stops answering within about 2 s; it stands down when it wakes, opening no second socket', async () => {
    const device = await newDevice(browser, gateway.url);
    try {
      const tabs = await aliceTabs(device, 3);
      const owner = ownerOf(tabs);
      const rest = tabs.filter((t) => t !== owner);
      const alice = await login(gateway.url, ALICE.email, ALICE.password);

      const publisher = publishContinuously(gateway, alice.accessToken);
      cleanup.push(() => publisher.stop());
      await sleep(300);
      const stoppedAt = Date.now();
      // What a frozen tab looks like to the others: its lock held, no answer, its timers stopped. (Chromium 156's
      // headless mode ignores CDP's Page.setWebLifecycleState 'frozen': timers go on. A long task stops the tab.)
      await owner.page.evaluate((ms) => void setTimeout(() => { for (const end = Date.now() + ms; Date.now() < end; ); }), 4000);
      const handover = Math.max(...(await Promise.all(rest.map((t) => reconnectedAfter(t.page, stoppedAt)))));
      await sleep(300);
      await publisher.stop();

      for (const tab of rest) {
        await row(tab.page, publisher.ids.at(-1)!).waitFor({ timeout: 2000 });
        const shown = await shownPayments(tab);
        assert.deepEqual(publisher.ids.filter((id) => !shown.has(id)), [], `every event reached the tab (${publisher.ids.length} published)`);
      }

      // Awake again: it learns it lost the lock, closes its socket and follows the new owner.
      await Promise.all(owner.sockets.map((s) => s.closed));
      await waitForConnection(owner.page, 'connected', 5000);
      await row(owner.page, publisher.ids.at(-1)!).waitFor({ timeout: 2000 });
      assert.equal(await gatewaySockets(gateway, 1), 1);
      assert.equal(owner.sockets.length, 1, 'the woken owner opened no second socket');
      assert.ok(handover < 2500, `hand-over took ${handover} ms`);
      console.log(`# hand-over from an owner that stopped answering: ${handover} ms; ${publisher.ids.length} events published through it, 0 missing`);
      assert.deepEqual(tabs.flatMap((t) => t.errors), []);
    } finally {
      await device.close();
    }
  });

  it('takes every tab to the sign-in page when one signs out, and closes the socket', async () => {
    const device = await newDevice(browser, gateway.url);
    try {
      const tabs = await aliceTabs(device, 3);
      const follower = tabs.find((t) => t !== ownerOf(tabs))!;
      await follower.page.getByRole('button', { name: 'Sign out' }).click();
      for (const tab of tabs) await tab.page.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: 3000 });
      assert.equal(await gatewaySockets(gateway, 0), 0);
      assert.deepEqual(tabs.map((t) => new URL(t.page.url()).pathname), ['/login', '/login', '/login']);
    } finally {
      await device.close();
    }
  });

  it('gives two browsers a socket each', async () => {
    const laptop = await newDevice(browser, gateway.url);
    const phone = await newDevice(browser, gateway.url);
    try {
      await aliceTabs(laptop, 2);
      await aliceTabs(phone, 2);
      assert.equal(await gatewaySockets(gateway, 2), 2);
    } finally {
      await Promise.all([laptop.close(), phone.close()]);
    }
  });
});

describe('an access token refreshed on the shared socket (in-band)', { timeout: 60_000 }, () => {
  let gateway: DemoGateway;
  const TTL_SECONDS = 5;
  before(async () => {
    gateway = await startDemoGateway({ SIMULATOR_INTERVAL_MS: '0', ACCESS_TOKEN_TTL_SECONDS: String(TTL_SECONDS) });
  });
  after(() => gateway.stop());

  it('is refreshed by the owner only; the next owner connects with the refreshed token, not its expired login one', async () => {
    const device = await newDevice(browser, gateway.url);
    try {
      const tabs = await aliceTabs(device, 2);
      /** Waits for the next in-band refresh on the tab's socket. */
      const renewedIn = async (tab: Tab) => {
        for (const seen = tab.renewals.length; tab.renewals.length === seen; ) await sleep(25);
      };
      const owner = ownerOf(tabs);
      const next = tabs.find((t) => t !== owner)!;
      // The demo's tabs keep the login's token as their socket token: refreshes go on until it has expired.
      const loginToken = await next.page.evaluate(() => JSON.parse(localStorage.getItem('payments.session')!).accessToken as string);
      const loginExpiresAt = (JSON.parse(Buffer.from(loginToken.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp * 1000;
      do await renewedIn(owner);
      while (Date.now() <= loginExpiresAt);
      assert.deepEqual(next.renewals, [], 'the other tab refreshed nothing');

      const closedAt = Date.now();
      await owner.page.close();
      const handover = await reconnectedAfter(next.page, closedAt);
      assert.equal(next.sockets.length, 1, 'one attempt: its handshake took the refreshed token');
      await renewedIn(next); // and the new owner refreshes that token in-band in turn
      assert.equal(next.sockets.filter((s) => !s.isClosed()).length, 1);
      const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
      assert.match(metrics, /^gateway_token_expiry_closes_total 0$/m, 'no socket was closed by its token expiring');
      assert.ok(handover < 2000, `hand-over took ${handover} ms`);
      console.log(`# hand-over with a refreshed token: ${handover} ms; the next owner's first handshake was accepted`);
      assert.deepEqual(tabs.flatMap((t) => t.errors), []);
    } finally {
      await device.close();
    }
  });
});
