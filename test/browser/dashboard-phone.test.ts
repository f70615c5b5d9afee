/**
 * The dashboard on a phone (390 px wide, an iPhone's width) and after errors: the page never
 * scrolls sideways, the header stays on one line, and a failed Show never leaves another scope's
 * secrets under the form that names a new one.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchChromium } from '../support/chromium.js';
import { type InProcessHandle, startInProcess } from '../support/in-process-server.js';
import { removeDir } from '../support/server-process.js';

const PHONE = { width: 390, height: 844 };
const KEY = 'sk_test_phone_dashboard_with_a_long_key_name';
const ERRORS_KEY = 'sk_test_phone_errors';

describe.skipIf(!haveChromium)('the dashboard at 390 px and after errors', () => {
  let server: InProcessHandle;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    server = await startInProcess({ engine: 'sqlite' });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (server) removeDir(server.dataDir);
  });

  const row = (name: string) => page.locator(`tr[data-name="${name}"]`);
  /** How far the page reaches beyond the viewport's width, in CSS pixels. */
  const overflow = () =>
    page.evaluate(
      'Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - document.documentElement.clientWidth',
    );
  /** The number of lines the text of `selector` takes. */
  const linesOf = (selector: string) =>
    page.evaluate(`(() => {
      const range = document.createRange();
      range.selectNodeContents(document.querySelector(${JSON.stringify(selector)}));
      return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
    })()`);

  /** A new phone (no remembered key), signed in. */
  async function signIn(key: string): Promise<void> {
    page = await (await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true })).newPage();
    await page.goto(`${server.url}/dashboard`);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await page.fill('#api-key', key);
    await page.click('#sign-in-form button[type=submit]');
    await page.waitForSelector('#workspace:not([hidden])');
  }

  it('fits 390 px: no sideways scrolling, a one-line header, secrets as readable cards', async () => {
    await signIn(KEY);
    const longName = `a-very-long-secret-name-${'x'.repeat(120)}`;
    await page.fill('#new-name', longName);
    await page.fill('#new-payload', `PAYLOAD-${'y'.repeat(300)}`);
    await page.click('#create-form button[type=submit]');
    await row(longName).waitFor();
    await row(longName).getByRole('button', { name: 'Reveal' }).click();
    await row(longName).locator('.payload').waitFor();

    expect(await overflow()).toBeLessThanOrEqual(0);
    for (const selector of ['.top h1', '#mode', '#sign-out', '#who']) {
      expect(await linesOf(selector), selector).toBe(1);
    }
    const tops = await page.evaluate(
      "[...document.querySelectorAll('.top > :not([hidden])')].map((e) => Math.round(e.getBoundingClientRect().top + e.getBoundingClientRect().height / 2))",
    );
    expect(Math.max(...(tops as number[])) - Math.min(...(tops as number[]))).toBeLessThanOrEqual(2);
    // Each cell of a row says what it is, since the column headers are not shown.
    expect(await row(longName).locator('td[data-label="ID"]').isVisible()).toBe(true);
    expect(await page.isVisible('#secrets thead')).toBe(false);
    const widest = await page.evaluate(
      "Math.max(...[...document.querySelectorAll('main *')].map((e) => e.getBoundingClientRect().right))",
    );
    expect(widest).toBeLessThanOrEqual(PHONE.width);
    if (process.env.PHONE_SCREENSHOT_PATH)
      await page.screenshot({ path: process.env.PHONE_SCREENSHOT_PATH, fullPage: true });
  });

  it('after a failed Show the table holds nothing of the previous scope, and follows the form', async () => {
    await signIn(ERRORS_KEY);
    await server
      .stripe(ERRORS_KEY)
      .apps.secrets.create({ name: 'account-only', payload: 'p', scope: { type: 'account' } });
    await page.click('#scope-form button[type=submit]');
    await row('account-only').waitFor();

    // A user scope without a user id: the form names no scope, and the table shows none.
    await page.selectOption('#scope-type', 'user');
    await page.click('#scope-form button[type=submit]');
    await expect.poll(() => page.textContent('#error')).toContain('Enter the user id');
    expect(await page.locator('tbody tr').count()).toBe(0);
    expect(await page.textContent('#scope-label')).toBe('');
    expect(await page.textContent('#count')).toBe('– / 10');
    await page.fill('#new-name', 'nowhere');
    await page.fill('#new-payload', 'p');
    await page.click('#create-form button[type=submit]');
    await expect.poll(() => page.textContent('#error')).toContain('Choose a scope first');

    // An account the API refuses: the error, and the table of the scope asked for, empty.
    await page.fill('#scope-user', 'usr_phone');
    await page.fill('#account', 'not-an-account');
    await page.click('#scope-form button[type=submit]');
    await expect.poll(() => page.textContent('#error')).toContain("does not have access to account 'not-an-account'");
    expect(await page.locator('tbody tr').count()).toBe(0);
    expect(await page.textContent('#scope-label')).toBe('in user usr_phone of not-an-account');
    expect(await page.textContent('#empty')).toBe('This scope could not be shown.');

    // Back to a scope that works: its own secrets, and the error gone.
    await page.fill('#account', '');
    await page.selectOption('#scope-type', 'account');
    await page.click('#scope-form button[type=submit]');
    await row('account-only').waitFor();
    expect(await page.isHidden('#error')).toBe(true);
    expect(await page.textContent('#scope-label')).toBe('in account');
    expect(await page.textContent('#count')).toBe('1 / 10');
    expect(await overflow()).toBeLessThanOrEqual(0);
  });
});
