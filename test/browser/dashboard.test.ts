/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core (CI installs it).
 * Set SCREENSHOT_PATH to also save a screenshot of the main page (the README's comes from here).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, haveChromium, launchChromium } from '../support/chromium.js';
import { raw, removeDir, type ServerHandle, startServer } from '../support/server-process.js';

if (!haveChromium)
  process.stdout.write(`\nDashboard browser tests SKIPPED: no ${CHROMIUM} (apt-get install chromium)\n`);

describe.skipIf(!haveChromium)('the dashboard in Chromium', () => {
  let server: ServerHandle;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    server = await startServer();
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    // Anything that tries to leave the server fails the test below.
    await page.route(/^(?!http:\/\/127\.0\.0\.1)/, (route) => {
      consoleErrors.push(`outside request: ${route.request().url()}`);
      return route.abort();
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (server) removeDir(server.dataDir);
  });

  const row = (name: string) => page.locator(`tr[data-name="${name}"]`);

  async function create(name: string, payload: string) {
    await page.fill('#new-name', name);
    await page.fill('#new-payload', payload);
    await page.click('#create-form button[type=submit]');
  }

  it('is served with a strict Content-Security-Policy and no inline script', async () => {
    const response = await raw(server, 'GET', '/dashboard');
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(response.text).not.toMatch(/\son\w+=/);
    expect(response.text).not.toMatch(/https?:\/\//);
  });

  it('signs in, creates, reveals, replaces and deletes, shows the cap error, and signs out', async () => {
    await page.goto(`${server.url}/dashboard`);
    await page.fill('#api-key', 'sk_test_wrong_format!');
    await page.click('#sign-in-form button[type=submit]');
    await expect.poll(() => page.textContent('#sign-in-error')).toContain('An API key looks like');

    await page.fill('#api-key', 'sk_test_dashboard');
    await page.click('#sign-in-form button[type=submit]');
    await page.waitForSelector('#workspace:not([hidden])');
    expect(await page.textContent('#mode')).toBe('TEST MODE');
    expect(await page.textContent('#count')).toBe('0 / 10');
    expect(await page.evaluate("sessionStorage.getItem('secret-store.apiKey')")).toBe('sk_test_dashboard');

    await create('alpha', 'PAYLOAD-ALPHA-1');
    await row('alpha').waitFor();
    expect(await page.textContent('#notice')).toBe('Created alpha.');
    expect(await page.content()).not.toContain('PAYLOAD-ALPHA-1');
    const firstId = await row('alpha').locator('td.id').textContent();

    await row('alpha').getByRole('button', { name: 'Reveal' }).click();
    await expect.poll(() => row('alpha').locator('.payload').textContent()).toBe('PAYLOAD-ALPHA-1');
    await row('alpha').getByRole('button', { name: 'Copy' }).click();
    await expect.poll(() => page.evaluate('navigator.clipboard.readText()')).toBe('PAYLOAD-ALPHA-1');
    await row('alpha').getByRole('button', { name: 'Hide' }).click();
    expect(await page.content()).not.toContain('PAYLOAD-ALPHA-1');

    await create('alpha', 'PAYLOAD-ALPHA-2');
    await expect.poll(() => page.textContent('#notice')).toBe('Replaced alpha.');
    await expect.poll(() => row('alpha').locator('td.id').textContent()).not.toBe(firstId);
    await row('alpha').getByRole('button', { name: 'Reveal' }).click();
    await expect.poll(() => row('alpha').locator('.payload').textContent()).toBe('PAYLOAD-ALPHA-2');

    // The API and the page agree.
    const found = await server
      .stripe('sk_test_dashboard')
      .apps.secrets.find({ name: 'alpha', scope: { type: 'account' }, expand: ['payload'] });
    expect(found.payload).toBe('PAYLOAD-ALPHA-2');

    for (let i = 1; i < 10; i++)
      await server
        .stripe('sk_test_dashboard')
        .apps.secrets.create({ name: `s${i}`, payload: 'x', scope: { type: 'account' } });
    await page.click('#scope-form button[type=submit]');
    await expect.poll(() => page.textContent('#count')).toBe('10 / 10');
    await create('eleventh', 'x');
    await expect.poll(() => page.textContent('#error')).toContain('at most 10 secrets in one scope');

    await page.fill('#filter', 's1');
    await expect.poll(() => page.locator('tbody tr').count()).toBe(1);
    await page.fill('#filter', '');

    await row('alpha').getByRole('button', { name: 'Delete' }).click();
    expect(await row('alpha').textContent()).toContain('Delete alpha?');
    await row('alpha').getByRole('button', { name: 'Cancel' }).click();
    expect(await row('alpha').count()).toBe(1);
    await row('alpha').getByRole('button', { name: 'Delete' }).click();
    await row('alpha').locator('button.danger').click();
    await expect.poll(() => row('alpha').count()).toBe(0);
    expect(await page.textContent('#count')).toBe('9 / 10');
    await expect(
      server.stripe('sk_test_dashboard').apps.secrets.find({ name: 'alpha', scope: { type: 'account' } }),
    ).rejects.toMatchObject({ statusCode: 404 });

    if (process.env.SCREENSHOT_PATH) await page.screenshot({ path: process.env.SCREENSHOT_PATH, fullPage: true });

    await page.click('#sign-out');
    await page.waitForSelector('#sign-in:not([hidden])');
    expect(await page.isHidden('#workspace')).toBe(true);
    expect(await page.evaluate("sessionStorage.getItem('secret-store.apiKey')")).toBeNull();
    expect(await page.locator('tbody tr').count()).toBe(0);
    await page.reload();
    expect(await page.isVisible('#sign-in')).toBe(true);
  });

  it('works in a user scope and on a connected account', async () => {
    await page.goto(`${server.url}/dashboard`);
    await page.fill('#api-key', 'sk_test_dashboard2');
    await page.click('#sign-in-form button[type=submit]');
    await page.waitForSelector('#workspace:not([hidden])');
    await page.fill('#account', 'acct_Dash1');
    await page.selectOption('#scope-type', 'user');
    await page.fill('#scope-user', 'usr_dash');
    await page.click('#scope-form button[type=submit]');
    await expect.poll(() => page.textContent('#scope-label')).toBe('in user usr_dash of acct_Dash1');
    await create('per-user', 'U');
    await row('per-user').waitFor();
    const onAccount = await server
      .stripe('sk_test_dashboard2')
      .apps.secrets.list({ scope: { type: 'user', user: 'usr_dash' } }, { stripeAccount: 'acct_Dash1' });
    expect(onAccount.data.map((s) => s.name)).toEqual(['per-user']);
    expect(consoleErrors.filter((e) => !e.includes('Failed to load resource'))).toEqual([]);
  });

  it('is absent with --no-dashboard', async () => {
    const bare = await startServer({ args: ['--no-dashboard'] });
    try {
      const response = await raw(bare, 'GET', '/dashboard');
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toBe('application/json');
    } finally {
      await bare.stop();
      removeDir(bare.dataDir);
    }
  });
});
