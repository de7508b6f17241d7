import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './browser.js';
import { type CollectorUnderTest, startCollectorUnderTest, waitFor } from './collector-under-test.js';

interface SdkState {
  sessionId: string | null;
  tabId: string;
  state: string;
  tabs: number;
  endReason?: string | null;
}

function readState(page: Page): Promise<SdkState> {
  return page.evaluate(() => (window as any).processSessions.getState());
}

async function openExamplePage(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForFunction(() => Boolean((window as any).processSessions?.getState().sessionId));
  return page;
}

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

describe('example page with default policy', () => {
  let collector: CollectorUnderTest;
  let context: BrowserContext;
  let firstPage: Page;

  beforeAll(async () => {
    collector = await startCollectorUnderTest();
    context = await browser.newContext();
    firstPage = await openExamplePage(context, collector.url);
  });

  afterAll(async () => {
    await context?.close();
    await collector?.close();
  });

  it('stores input events in DuckDB', async () => {
    const { sessionId } = await readState(firstPage);
    await firstPage.mouse.move(20, 20);
    await firstPage.mouse.move(200, 120);
    await firstPage.click('#notes');
    await firstPage.keyboard.type('hello');

    const events = await waitFor(
      () => collector.storage.listEvents(sessionId!),
      (rows) => rows.some((row) => row.type === 'activity'),
    );

    const types = new Set(events.map((row) => row.type));
    expect(types.has('session_start')).toBe(true);
    expect(types.has('page_view')).toBe(true);
    expect(types.has('activity')).toBe(true);
  });

  it('shares one session across two tabs', async () => {
    const secondPage = await openExamplePage(context, collector.url);

    const first = await waitFor(() => readState(firstPage), (state) => state.tabs === 2);
    const second = await waitFor(() => readState(secondPage), (state) => state.tabs === 2);

    expect(second.sessionId).toBe(first.sessionId);
    expect(second.tabId).not.toBe(first.tabId);
    await secondPage.waitForFunction(
      () => document.getElementById('tab-count')?.textContent === '2',
    );
    await secondPage.close();
  });

  it('shows termination by an admin within 2 s', async () => {
    const { sessionId } = await readState(firstPage);

    const startedAt = Date.now();
    const reply = await collector.admin('POST', `/v1/admin/sessions/${sessionId}/terminate`, {
      reason: 'e2e test',
    });
    await firstPage.waitForFunction(
      () => (window as any).processSessions.getState().state === 'terminated',
      undefined,
      { timeout: 2000 },
    );
    const elapsedMs = Date.now() - startedAt;

    expect(reply.status).toBe(200);
    expect(elapsedMs).toBeLessThan(2000);
    await firstPage.locator('#ended-banner').waitFor({ state: 'visible', timeout: 2000 });
    expect(await firstPage.locator('#ended-reason').textContent()).toBe('terminated');
  });

  it('reports the session in the summary', async () => {
    const { sessionId } = await readState(firstPage);

    const summary = await collector.admin('GET', '/v1/analytics/summary');
    const stored = await collector.storage.getSession(sessionId!);

    expect(summary.status).toBe(200);
    expect(summary.body.sessions).toBeGreaterThanOrEqual(1);
    expect(summary.body.endReasons.terminated).toBe(1);
    expect(stored?.endReason).toBe('terminated');
  });
});

describe('example page with a short idle timeout', () => {
  let collector: CollectorUnderTest;
  let context: BrowserContext;

  beforeAll(async () => {
    collector = await startCollectorUnderTest({ IDLE_TIMEOUT_MS: '8000', WARNING_MS: '4000' });
    context = await browser.newContext();
  });

  afterAll(async () => {
    await context?.close();
    await collector?.close();
  });

  it('warns, then goes idle and stores the idle event', async () => {
    const page = await openExamplePage(context, collector.url);
    const { sessionId } = await readState(page);

    // The first reply, after one flush interval, brings the 8 s policy; the
    // warning then starts 4 s before the idle deadline.
    await page.waitForFunction(() => (window as any).processSessions.getState().state === 'warning');
    await page.locator('#warning-banner').waitFor({ state: 'visible' });
    await page.waitForFunction(() => (window as any).processSessions.getState().state === 'idle');
    const events = await waitFor(
      () => collector.storage.listEvents(sessionId!),
      (rows) => rows.some((row) => row.type === 'idle'),
    );
    const session = await waitFor(
      () => collector.storage.getSession(sessionId!),
      (row) => row?.endReason === 'idle',
    );

    expect(events.some((row) => row.type === 'idle')).toBe(true);
    expect(session?.endReason).toBe('idle');
  });
});
