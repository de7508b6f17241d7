import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { launchBrowser } from './browser.js';
import { type CollectorUnderTest, startCollectorUnderTest, waitFor } from './collector-under-test.js';

interface SdkState {
  sessionId: string | null;
  tabId: string;
  state: string;
  tabs: number;
  isLeader: boolean;
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

/** Event ids of every batch a page posts to the collector, in send order. */
function recordSentEventIds(page: Page, sink: string[]): void {
  page.on('request', (request) => {
    if (request.method() !== 'POST' || !request.url().endsWith('/v1/events')) return;
    const body = request.postData();
    if (!body) return;
    for (const event of JSON.parse(body).events as { id: string }[]) sink.push(event.id);
  });
}

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

describe('tabs of one browser', () => {
  let collector: CollectorUnderTest;
  let context: BrowserContext;

  beforeAll(async () => {
    collector = await startCollectorUnderTest({ HEARTBEAT_MS: '2000' });
  });

  afterAll(async () => {
    await collector?.close();
  });

  beforeEach(async () => {
    context = await browser.newContext();
  });

  afterEach(async () => {
    await context?.close();
  });

  it('duplicated tab gets a new tab id', async () => {
    const original = await openExamplePage(context, collector.url);
    const stored = await original.evaluate(() => JSON.stringify({ ...sessionStorage }));

    // Browsers copy sessionStorage into a duplicated tab before its scripts run.
    const duplicate = await context.newPage();
    await duplicate.addInitScript((entries: string) => {
      for (const [key, value] of Object.entries(JSON.parse(entries) as Record<string, string>)) {
        sessionStorage.setItem(key, value);
      }
    }, stored);
    await duplicate.goto(collector.url);
    await duplicate.waitForFunction(() => Boolean((window as any).processSessions?.getState().sessionId));

    const first = await readState(original);
    const second = await waitFor(() => readState(duplicate), (state) => state.tabs === 2);
    expect(second.sessionId).toBe(first.sessionId);
    expect(second.tabId).not.toBe(first.tabId);
  });

  it('reload keeps the tab id', async () => {
    const page = await openExamplePage(context, collector.url);
    const before = await readState(page);

    await page.reload();
    await page.waitForFunction(() => Boolean((window as any).processSessions?.getState().sessionId));
    const after = await readState(page);

    expect(after.tabId).toBe(before.tabId);
    expect(after.sessionId).toBe(before.sessionId);
  });

  it('another tab takes over when the leader closes', async () => {
    const pages = [await openExamplePage(context, collector.url), await openExamplePage(context, collector.url)];
    const states = await Promise.all(pages.map(readState));
    const leaderIndex = states.findIndex((state) => state.isLeader);
    expect(leaderIndex).not.toBe(-1);
    expect(states.filter((state) => state.isLeader)).toHaveLength(1);

    const follower = pages[1 - leaderIndex]!;
    const followerTabId = states[1 - leaderIndex]!.tabId;
    await pages[leaderIndex]!.close();

    // The heartbeat interval is 2 s; a new leader must take over within one.
    await follower.waitForFunction(() => (window as any).processSessions.getState().isLeader, undefined, {
      timeout: 2500,
    });
    const sessionId = states[0]!.sessionId!;
    const heartbeats = await waitFor(
      () => collector.storage.listEvents(sessionId),
      (rows) => rows.some((row) => row.type === 'heartbeat' && row.tabId === followerTabId),
    );
    expect(heartbeats.some((row) => row.type === 'heartbeat' && row.tabId === followerTabId)).toBe(true);
  });
});

describe('delivery', () => {
  let collector: CollectorUnderTest;
  let context: BrowserContext;

  beforeAll(async () => {
    collector = await startCollectorUnderTest();
  });

  afterAll(async () => {
    await collector?.close();
  });

  beforeEach(async () => {
    context = await browser.newContext();
  });

  afterEach(async () => {
    await context?.close();
  });

  it('offline tabs send each event once when back online', async () => {
    const pages = await Promise.all([1, 2, 3].map(() => openExamplePage(context, collector.url)));
    const { sessionId } = await readState(pages[0]!);
    const sentIds: string[] = [];
    for (const page of pages) recordSentEventIds(page, sentIds);

    await context.setOffline(true);
    for (const page of pages) {
      await page.bringToFront();
      await page.click('#track-button');
      await page.mouse.move(50, 60);
      await page.keyboard.press('a');
    }
    await new Promise((resolve) => setTimeout(resolve, 4000));
    await context.setOffline(false);

    const custom = await waitFor(
      () => collector.storage.listEvents(sessionId!),
      (rows) => rows.filter((row) => row.type === 'custom').length === 3,
      20_000,
    );
    const duplicates = sentIds.filter((id, index) => sentIds.indexOf(id) !== index);
    expect(custom.filter((row) => row.type === 'custom')).toHaveLength(3);
    expect(duplicates).toEqual([]);
  });

  it('pagehide beacon reaches the collector', async () => {
    const page = await openExamplePage(context, collector.url);
    const { sessionId, tabId } = await readState(page);
    await waitFor(
      () => collector.storage.listEvents(sessionId!),
      (rows) => rows.some((row) => row.type === 'session_start'),
    );

    // Closing right after the click leaves no flush interval to send the event.
    await page.click('#track-button');
    await page.close({ runBeforeUnload: false });

    const rows = await waitFor(
      () => collector.storage.listEvents(sessionId!),
      (events) => events.some((row) => row.type === 'custom'),
    );
    expect(rows.some((row) => row.type === 'custom' && row.tabId === tabId)).toBe(true);
  });
});
