/** playwright-core driving Debian's Chromium (never `npx playwright install`). */
import { after } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from '../../testing/chromium.js';

const browsers = new Set<Browser>();
after(async () => {
  await Promise.all([...browsers].map((b) => b.close().catch(() => undefined)));
});

export async function launchBrowser(): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_FLAGS],
  });
  browsers.add(browser);
  return browser;
}

/** A browser context stands for one device: its own localStorage, shared by its tabs. */
export async function newDevice(browser: Browser, baseURL: string): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 860 }, reducedMotion: 'reduce' });
  context.setDefaultTimeout(10_000);
  return context;
}

/**
 * Uncaught errors in a page, and anything the page's Content Security Policy refused (an inline
 * handler, a style, a connection: the gateway and nginx send the same policy), fail the test that
 * reads them.
 */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/.test(message.text())) errors.push(message.text());
  });
  return errors;
}

export type DemoAccountName = 'Ada Admin' | 'Alice Customer' | 'Bob Customer' | 'Vera Vendor';

/** Opens the app and signs in through the login page's demo account button. */
export async function signIn(page: Page, account: DemoAccountName): Promise<void> {
  await page.goto('/');
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByRole('button', { name: new RegExp(`^Sign in as ${account}`) }).click();
  await page.getByRole('heading', { level: 1, name: /payments/i }).waitFor();
}

/** The connection indicator (role status, named "Connection"). */
export function connection(page: Page): Locator {
  return page.locator('.conn');
}

export async function waitForConnection(page: Page, state: 'connected' | 'reconnecting' | 'connecting' | 'disconnected', timeout = 10_000) {
  await page.locator(`.conn[data-state="${state}"]`).waitFor({ timeout });
}

/** A dashboard row, optionally in a given status. */
export function row(page: Page, paymentId: string, status?: string): Locator {
  return page.locator(`tr[data-payment-id="${paymentId}"]${status ? `[data-status="${status}"]` : ''}`);
}

/**
 * Records every connection state the indicator shows, with a timestamp (in the page, so nothing is missed
 * between two polls of the test).
 */
export async function recordConnectionStates(page: Page): Promise<void> {
  // A string, not a function: tsx's esbuild would wrap named inner functions in a `__name` helper the page lacks.
  await page.addInitScript(`
    window.__connStates = [];
    let last = '';
    new MutationObserver(() => {
      const state = document.querySelector('.conn')?.getAttribute('data-state') ?? '';
      if (state && state !== last) {
        last = state;
        window.__connStates.push({ state, at: Date.now() });
      }
    }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
  `);
}

export function connectionStates(page: Page): Promise<Array<{ state: string; at: number }>> {
  return page.evaluate(() => (window as unknown as { __connStates: Array<{ state: string; at: number }> }).__connStates);
}

/**
 * Waits until the page (recording its states) lost its connection after `since` and has it back; the time that took
 * from `since`.
 */
export async function reconnectedAfter(page: Page, since: number, timeout = 5000): Promise<number> {
  await page.waitForFunction(
    (since) => {
      const states = (window as unknown as { __connStates: Array<{ state: string; at: number }> }).__connStates;
      const lost = states.findIndex((s) => s.at >= since && s.state !== 'connected');
      return lost >= 0 && states.slice(lost).some((s) => s.state === 'connected');
    },
    since,
    { timeout },
  );
  const states = await connectionStates(page);
  const lost = states.findIndex((s) => s.at >= since && s.state !== 'connected');
  return states.slice(lost).find((s) => s.state === 'connected')!.at - since;
}
