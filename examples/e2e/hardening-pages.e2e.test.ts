import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './browser.js';
import { type CollectorUnderTest, startCollectorUnderTest } from './collector-under-test.js';

let browser: Browser;
let collector: CollectorUnderTest;
let context: BrowserContext;

/** Records every Content Security Policy violation of a page in `window.cspViolations`. */
async function openWatchedPage(): Promise<Page> {
  const page = await context.newPage();
  await page.addInitScript(() => {
    const violations: string[] = [];
    (window as any).cspViolations = violations;
    document.addEventListener('securitypolicyviolation', (event) => {
      violations.push(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  return page;
}

function violationsOf(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as any).cspViolations as string[]);
}

beforeAll(async () => {
  browser = await launchBrowser();
  collector = await startCollectorUnderTest();
  context = await browser.newContext();
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await collector?.close();
});

describe('pages under security headers', () => {
  it('example page runs under CSP', async () => {
    const page = await openWatchedPage();

    const response = await page.goto(collector.url);
    await page.waitForFunction(() =>
      Boolean((window as any).processSessions?.getState().sessionId),
    );
    await page.mouse.move(40, 40);

    expect(response?.headers()['content-security-policy']).toMatch(/style-src 'self' 'sha256-/);
    // The inline <style> sets this width, so it applies only if its hash is allowed.
    const width = await page.evaluate(() => getComputedStyle(document.body).maxWidth);
    expect(width).toBe('704px');
    expect(await violationsOf(page)).toEqual([]);
  });

  it('API docs render under CSP', async () => {
    const page = await openWatchedPage();

    await page.goto(`${collector.url}/docs`);

    const heading = await page.textContent('h1');
    expect(heading).toContain('Process Sessions collector');
    const padding = await page.evaluate(() => getComputedStyle(document.body).paddingLeft);
    expect(padding).toBe('32px');
    expect(await violationsOf(page)).toEqual([]);
  });

  it('console pages run under CSP', async () => {
    const page = await openWatchedPage();
    await page.goto(`${collector.url}/console/login`);
    await page.fill('#token', collector.adminToken);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/console\/live$/);

    const violations: string[] = [...(await violationsOf(page))];
    for (const path of ['/console/reports', '/console/settings']) {
      await page.goto(`${collector.url}${path}`);
      await page.waitForLoadState('networkidle');
      violations.push(...(await violationsOf(page)));
    }

    expect(violations).toEqual([]);
  });

  it('page refuses to be framed', async () => {
    const page = await context.newPage();
    // about:blank has no policy of its own, so only the framed page's headers can block it.
    await page.setContent(
      `<iframe srcdoc="<h1>control</h1>"></iframe><iframe src="${collector.url}/docs"></iframe>`,
    );
    await page.waitForTimeout(1000);

    const headings = await Promise.all(
      page
        .frames()
        .filter((frame) => frame !== page.mainFrame())
        .map((frame) => frame.evaluate(() => document.querySelector('h1')?.textContent ?? null)),
    );

    expect(headings).toContain('control');
    expect(headings.some((heading) => heading?.includes('Process Sessions'))).toBe(false);
  });
});
