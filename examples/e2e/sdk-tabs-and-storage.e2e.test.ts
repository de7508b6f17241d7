import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { launchBrowser } from './browser.js';
import { type CollectorUnderTest, startCollectorUnderTest, waitFor } from './collector-under-test.js';

/** Path of the bare test page that routeSdkPage serves on the collector's origin. */
const PAGE_PATH = '/sdk-e2e.html';

interface SdkState {
  sessionId: string | null;
  tabId: string | null;
  state: string;
  tabs: number;
  isLeader: boolean;
}

/**
 * Serves a page that loads only the SDK's script tag, on the collector's origin so that the
 * collector accepts its batches. `setup` runs in each page before the SDK loads.
 */
async function openSdkPage(
  context: BrowserContext,
  collector: CollectorUnderTest,
  setup?: () => void,
  flushIntervalMs = 300,
): Promise<Page> {
  const page = await context.newPage();
  const html =
    '<!doctype html><title>SDK e2e</title><button id="track">track</button>' +
    `<script src="/sdk.js" data-app="example" data-flush-interval-ms="${flushIntervalMs}"></script>` +
    "<script>document.getElementById('track').onclick = () => processSessions.track('clicked')</script>";

  await page.route(`${collector.url}${PAGE_PATH}`, (route) => route.fulfill({ contentType: 'text/html', body: html }));
  if (setup) await page.addInitScript(setup);
  await page.goto(`${collector.url}${PAGE_PATH}`);
  await page.waitForFunction(() => Boolean((window as any).processSessions?.getState().sessionId));

  return page;
}

function readState(page: Page): Promise<SdkState> {
  return page.evaluate(() => (window as any).processSessions.getState());
}

/** Event ids of every batch a page delivered to the collector, in order of the replies. */
function recordSentEventIds(page: Page, sink: string[]): void {
  page.on('requestfinished', (request) => {
    if (request.method() !== 'POST' || !request.url().endsWith('/v1/events')) return;
    for (const event of JSON.parse(request.postData() ?? '{"events":[]}').events as { id: string }[]) sink.push(event.id);
  });
}

/** Records, in the page, every warning as [remainingMs, idleAt] and every unhandled rejection. */
function recordInPage() {
  const record = window as unknown as { warnings: [number, number][]; rejections: string[] };
  record.warnings = [];
  record.rejections = [];
  addEventListener('unhandledrejection', (event) => record.rejections.push(String(event.reason)));
  addEventListener('load', () => {
    (window as any).processSessions?.on('warning', ({ remainingMs, idleAt }: { remainingMs: number; idleAt: number }) => {
      record.warnings.push([remainingMs, idleAt]);
    });
  });
}

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

describe('sdk across tabs', () => {
  let collector: CollectorUnderTest;
  let context: BrowserContext;

  beforeAll(async () => {
    collector = await startCollectorUnderTest({ IDLE_TIMEOUT_MS: '9000', WARNING_MS: '6000', HEARTBEAT_MS: '2000' });
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

  it('warning counts down alike in tabs', async () => {
    const first = await openSdkPage(context, collector, recordInPage);
    const second = await openSdkPage(context, collector, recordInPage);
    const readWarnings = (page: Page) => page.evaluate(() => (window as any).warnings as [number, number][]);

    await waitFor(() => readWarnings(second), (warnings) => warnings.length >= 3, 15_000);
    const warnings = [...(await readWarnings(first)), ...(await readWarnings(second))];
    const secondCountdown = (await readWarnings(second)).map(([remainingMs]) => remainingMs);

    // Both tabs count down to one shared deadline, on the whole seconds before it.
    expect(new Set(warnings.map(([, idleAt]) => idleAt)).size).toBe(1);
    expect(warnings.every(([remainingMs]) => remainingMs % 1000 === 0)).toBe(true);
    expect(secondCountdown.slice(1)).toEqual(secondCountdown.slice(0, -1).map((remainingMs) => remainingMs - 1000));

    // Input in one tab ends the warning in the other.
    await second.mouse.click(5, 5);
    await first.waitForFunction(() => (window as any).processSessions.getState().state === 'active', undefined, {
      timeout: 1500,
    });
  });

  it('lease leader takes over without Web Locks', async () => {
    const withoutLocks = () => Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined });
    const pages = [await openSdkPage(context, collector, withoutLocks), await openSdkPage(context, collector, withoutLocks)];
    const states = await Promise.all(pages.map(readState));
    const leaderIndex = states.findIndex((state) => state.isLeader);

    expect(await pages[0]!.evaluate(() => navigator.locks)).toBeUndefined();
    expect(states.filter((state) => state.isLeader)).toHaveLength(1);

    await pages[leaderIndex]!.close();
    // The heartbeat interval is 2 s; the released lease reaches the other tab by a storage event.
    await pages[1 - leaderIndex]!.waitForFunction(() => (window as any).processSessions.getState().isLeader, undefined, {
      timeout: 2000,
    });
  });

  it('opt out reaches every tab', async () => {
    const first = await openSdkPage(context, collector);
    const second = await openSdkPage(context, collector);

    await first.evaluate(() => (window as any).processSessions.optOut());
    await second.waitForFunction(() => (window as any).processSessions.getState().state === 'off');
    const stored = await second.evaluate(() => ({ ...localStorage }));

    expect(stored).toEqual({ 'ps:example:consent': '"out"' });
  });

  it('adds no unload listener', async () => {
    const page = await openSdkPage(context, collector);
    const cdp = await context.newCDPSession(page);
    const { result } = await cdp.send('Runtime.evaluate', { expression: 'window' });
    const { listeners } = await cdp.send('DOMDebugger.getEventListeners', { objectId: result.objectId! });
    const types = listeners.map((listener) => listener.type);

    expect(types).toEqual(expect.arrayContaining(['pagehide', 'pointerdown', 'keydown']));
    expect(types).not.toContain('unload');
    expect(types).not.toContain('beforeunload');
  });
});

describe('sdk storage', () => {
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

  it('termination reaches every tab', async () => {
    const pages = [];
    for (let index = 0; index < 3; index += 1) pages.push(await openSdkPage(context, collector));
    const { sessionId } = await readState(pages[0]!);
    // With 30 s heartbeats no batch reply brings the end in time: the stream must. Whichever
    // tab flushes, the leader opens the stream once the collector stored a batch.
    await pages[0]!.waitForFunction(() => JSON.parse(localStorage.getItem('ps:example:session')!).isAccepted === true);
    await new Promise((resolve) => setTimeout(resolve, 500));

    const reply = await collector.admin('POST', `/v1/admin/sessions/${sessionId}/terminate`, { reason: 'e2e test' });
    const isTerminated = () => (window as any).processSessions.getState().state === 'terminated';

    expect(reply.status).toBe(200);
    await Promise.all(pages.map((page) => page.waitForFunction(isTerminated, undefined, { timeout: 2000 })));
  });

  it('another tab sends closed tab events', async () => {
    const closing = await openSdkPage(context, collector);
    const staying = await openSdkPage(context, collector);
    const { sessionId, tabId } = await readState(closing);
    const sentIds: string[] = [];
    recordSentEventIds(staying, sentIds);

    // Offline, the closing tab sends no beacon: its events wait in IndexedDB.
    await context.setOffline(true);
    await closing.click('#track');
    // A page destroyed before IndexedDB commits the write would lose the event.
    await waitFor(
      () => closing.evaluate(countStoredEvents),
      (count) => count >= 1,
    );
    await closing.close({ runBeforeUnload: false });
    await context.setOffline(false);

    const rows = await waitFor(
      () => collector.storage.listEvents(sessionId!),
      (events) => events.some((row) => row.type === 'custom' && row.tabId === tabId),
      15_000,
    );
    expect(rows.filter((row) => row.type === 'custom')).toHaveLength(1);
    expect(sentIds.filter((id, index) => sentIds.indexOf(id) !== index)).toEqual([]);
  });

  it('splits backlog over 64 KiB', async () => {
    // No timed flush runs, so the events below wait for the pagehide beacons.
    const page = await openSdkPage(context, collector, undefined, 600_000);
    const { sessionId, tabId } = await readState(page);
    const bodyBytes: number[] = [];
    context.on('request', (request) => {
      if (request.url().endsWith('/v1/events')) bodyBytes.push(request.postDataBuffer()?.length ?? 0);
    });

    // Three events of about 41 KB each, "é" being 2 bytes of UTF-8: no two fit in one beacon.
    await page.evaluate(() => {
      const props = Object.fromEntries(Array.from({ length: 32 }, (_, index) => [`part${index}`, 'é'.repeat(640)]));
      for (let index = 0; index < 3; index += 1) (window as any).processSessions.track(`large_${index}`, props);
    });
    // A page closed before IndexedDB stored its events would lose what no beacon carried.
    await waitFor(
      () => page.evaluate(countStoredEvents),
      (count) => count >= 3,
    );
    await page.close({ runBeforeUnload: false });
    // Beacons in flight share the 64 KiB quota, so what did not fit waits in IndexedDB for
    // the next page of the app.
    await openSdkPage(context, collector);

    const rows = await waitFor(
      () => collector.storage.listEvents(sessionId!),
      (events) => events.filter((row) => row.type === 'custom').length === 3,
    );
    expect(rows.filter((row) => row.type === 'custom' && row.tabId === tabId)).toHaveLength(3);
    // Playwright does not report every request of a closing page, so not all three show here.
    expect(bodyBytes.filter((bytes) => bytes > 40_000).length).toBeGreaterThanOrEqual(2);
    expect(bodyBytes.every((bytes) => bytes <= 64 * 1024)).toBe(true);
  });

  it('works without IndexedDB', async () => {
    const errors: Error[] = [];
    const page = await openSdkPage(context, collector, () => {
      Object.defineProperty(window, 'indexedDB', { get: () => undefined });
      (window as any).rejections = [];
      addEventListener('unhandledrejection', (event) => (window as any).rejections.push(String(event.reason)));
    });
    page.on('pageerror', (error) => errors.push(error));
    const { sessionId } = await readState(page);

    await page.click('#track');
    await waitFor(
      () => collector.storage.listEvents(sessionId!),
      (rows) => rows.some((row) => row.type === 'custom'),
    );

    expect(await page.evaluate(() => (window as any).rejections)).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('reopens IndexedDB after connection loss', async () => {
    const page = await openSdkPage(context, collector, recordInPage);
    const { sessionId } = await readState(page);
    const cdp = await context.newCDPSession(page);

    // Clearing the origin's IndexedDB closes the SDK's open connection.
    await cdp.send('Storage.clearDataForOrigin', { origin: collector.url, storageTypes: 'indexeddb' });
    await context.setOffline(true);
    await page.click('#track');
    const storedCount = await waitFor(
      () => page.evaluate(countStoredEvents),
      (count) => count > 0,
    );
    await context.setOffline(false);

    await waitFor(
      () => collector.storage.listEvents(sessionId!),
      (rows) => rows.some((row) => row.type === 'custom'),
    );
    expect(storedCount).toBeGreaterThan(0);
    expect(await page.evaluate(() => (window as any).rejections)).toEqual([]);
  });
});

/**
 * Counts the events in the SDK's IndexedDB store of app `example`, in the page. A missing
 * database counts 0 and is not created, because aborting the upgrade leaves none behind.
 */
function countStoredEvents(): Promise<number> {
  return new Promise((resolve) => {
    const request = indexedDB.open('ps:example');
    request.onupgradeneeded = () => request.transaction?.abort();
    request.onerror = () => resolve(0);
    request.onsuccess = () => {
      const db = request.result;
      const count = db.transaction('queue').objectStore('queue').count();
      count.onsuccess = () => {
        db.close();
        resolve(count.result);
      };
    };
  });
}
