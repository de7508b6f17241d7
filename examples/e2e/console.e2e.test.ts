import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionRowFixture } from '../../collector/src/storage/test-fixtures.js';
import { launchBrowser } from './browser.js';
import {
  type CollectorUnderTest,
  startCollectorUnderTest,
  waitFor,
} from './collector-under-test.js';

const ARTIFACTS_DIR = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const XSS_USER_ID = '<img src=x onerror=alert(1)>';

function readState(page: Page): Promise<{ sessionId: string | null; state: string }> {
  return page.evaluate(() => (window as any).processSessions.getState());
}

async function openExamplePage(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForFunction(() => Boolean((window as any).processSessions?.getState().sessionId));
  await page.mouse.move(40, 40);
  await page.mouse.move(200, 160);
  return page;
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${ARTIFACTS_DIR}${name}.png`, fullPage: true });
}

let browser: Browser;
let collector: CollectorUnderTest;
let adminContext: BrowserContext;
let admin: Page;

beforeAll(async () => {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  browser = await launchBrowser();
  collector = await startCollectorUnderTest();
  adminContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  admin = await adminContext.newPage();

  await admin.goto(`${collector.url}/console/live`);
  await admin.waitForURL(/\/console\/login/);
  await screenshot(admin, 'console-sign-in');
  await admin.fill('#token', collector.adminToken);
  await admin.click('button[type=submit]');
  await admin.waitForURL(/\/console\/live$/);
});

afterAll(async () => {
  await adminContext?.close();
  await browser?.close();
  await collector?.close();
});

describe('console in Chromium', () => {
  it('live sessions update and terminate', async () => {
    await admin.goto(`${collector.url}/console/live`);
    await admin.locator('#live-status', { hasText: 'updating live' }).waitFor();
    const userContext = await browser.newContext();
    const example = await openExamplePage(userContext, collector.url);
    const { sessionId } = await readState(example);

    // The row arrives through the live stream, without a reload.
    const row = admin.locator(`tr[data-session-id="${sessionId}"]`);
    await row.waitFor({ timeout: 10_000 });
    await screenshot(admin, 'console-live-sessions');
    await row.locator('a', { hasText: 'Terminate' }).click();
    await admin.waitForURL(/\/console\/live\/terminate\?sessionId=/);
    expect(await admin.locator('.warning').textContent()).toContain("disrupts the user's work");
    await screenshot(admin, 'console-terminate-confirmation');
    await admin.fill('#reason', 'console e2e test');
    await admin.click('#confirm-terminate');

    await admin.waitForURL(/\/console\/live$/);
    await example.locator('#ended-banner').waitFor({ state: 'visible', timeout: 5_000 });
    expect(await example.locator('#ended-reason').textContent()).toBe('terminated');
    expect(await admin.locator('.notice').textContent()).toContain(
      `Terminated session ${sessionId}.`,
    );
    await row.waitFor({ state: 'detached' });
    await screenshot(example, 'example-page-terminated');
    await userContext.close();
  });

  it('client strings render as text', async () => {
    await collector.storage.transact({
      sessionIds: [],
      eventIds: [],
      apply: (view) =>
        view.putSession(
          sessionRowFixture({
            id: 'session-xss-e2e',
            userId: XSS_USER_ID,
            startedAt: Date.now(),
            lastActivityAt: Date.now(),
            lastSeenAt: Date.now(),
          }),
        ),
    });
    const dialogs: string[] = [];
    admin.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });

    await admin.goto(`${collector.url}/console/live`);
    const row = admin.locator('tr[data-session-id="session-xss-e2e"]');

    expect(await row.locator('td').nth(1).textContent()).toBe(XSS_USER_ID);
    expect(await admin.locator('#live-sessions img').count()).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it('reports page draws its charts', async () => {
    await admin.goto(`${collector.url}/console/reports`);
    await admin.waitForFunction(() => document.documentElement.dataset.chartsDrawn !== undefined);

    const drawn = await admin.evaluate(() => Number(document.documentElement.dataset.chartsDrawn));
    const painted = await admin.evaluate(() =>
      [...document.querySelectorAll('canvas')].map((canvas) => {
        const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
        let opaque = 0;
        for (let index = 3; index < data.length; index += 4) if (data[index]! > 0) opaque += 1;
        return opaque;
      }),
    );
    const csv = await admin.evaluate(async () => {
      const link = document.querySelector<HTMLAnchorElement>('.downloads a')!;
      const response = await fetch(link.href);
      return { type: response.headers.get('content-type'), text: await response.text() };
    });
    await screenshot(admin, 'console-reports');

    expect(drawn).toBe(12);
    expect(painted).toHaveLength(12);
    for (const pixels of painted) expect(pixels).toBeGreaterThan(100);
    expect(csv.type).toContain('text/csv');
    expect(csv.text.split('\r\n')[0]).toBe(
      'bucket_start,bucket,sessions,uniqueUsers,newUsers,returningUsers',
    );
  });

  it('switching off stops tracking', async () => {
    const userContext = await browser.newContext();
    const example = await openExamplePage(userContext, collector.url);
    const { sessionId } = await readState(example);
    await waitFor(
      () => collector.storage.getSession(sessionId!),
      (row) => row !== undefined,
    );

    await admin.goto(`${collector.url}/console/settings`);
    await admin.uncheck('#enabled');
    await screenshot(admin, 'console-settings');
    await admin.click('button[type=submit].primary');
    await admin.waitForURL(/saved=1/);

    await example.locator('#ended-banner').waitFor({ state: 'visible', timeout: 5_000 });
    expect(await example.locator('#ended-reason').textContent()).toBe('disabled');
    await example.mouse.move(10, 10);
    await example.keyboard.type('still here');
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const live = await collector.admin('GET', '/v1/admin/sessions?state=active');
    expect(
      live.body.sessions.filter((row: { id: string }) => row.id !== 'session-xss-e2e'),
    ).toEqual([]);
    expect((await readState(example)).state).not.toBe('active');
    expect(await admin.locator('.notice').textContent()).toContain('Settings saved.');
    await screenshot(example, 'example-page-disabled');
    await userContext.close();
  });
});
