/**
 * Measures the main-thread script time the SDK adds while a user storms a page with pointer
 * and key input, in headless Chromium against a local collector on 127.0.0.1. The same storm
 * runs on a page without the SDK and on one with its script tag. The SDK's cost is the
 * difference of Chromium's `ScriptDuration` metric, read with CDP `Performance.getMetrics`.
 * Run it alone with `npx tsx scripts/bench/sdk-main-thread.ts`; DURATION_MS shortens the storm.
 */
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../../examples/e2e/browser.js';
import { startCollectorUnderTest } from '../../examples/e2e/collector-under-test.js';

/** Settings of one measurement. */
export interface MainThreadLoad {
  /** Length of each storm, in ms. @default 60000 */
  durationMs: number;
  /**
   * Pointer moves per second. Chromium delivers at most one per animation frame, so more
   * than the display rate only queues up. @default 60
   */
  pointerMovesPerSecond: number;
  /** Key presses (down and up) per second. @default 10, fast typing */
  keyPressesPerSecond: number;
}

/** Script time of both pages over one storm, in ms, and the input the storm sent. */
export interface MainThreadResult {
  load: MainThreadLoad;
  pointerMoves: number;
  keyPresses: number;
  withoutSdkScriptMs: number;
  withSdkScriptMs: number;
  /** withSdkScriptMs − withoutSdkScriptMs. */
  addedScriptMs: number;
  /** addedScriptMs per second of storm. */
  addedScriptMsPerSecond: number;
}

export const DEFAULT_MAIN_THREAD_LOAD: MainThreadLoad = {
  durationMs: 60_000,
  pointerMovesPerSecond: 60,
  keyPressesPerSecond: 10,
};

const PAGE_PATH = '/bench-main-thread.html';

/** Runs the storm on a page without and on a page with the SDK, prints the figures and returns them. */
export async function measureSdkMainThread(load: MainThreadLoad = DEFAULT_MAIN_THREAD_LOAD): Promise<MainThreadResult> {
  const collector = await startCollectorUnderTest();
  const browser = await launchBrowser();

  try {
    const without = await stormPage(browser, collector.url, false, load);
    const withSdk = await stormPage(browser, collector.url, true, load);
    const addedScriptMs = withSdk.scriptMs - without.scriptMs;
    const result: MainThreadResult = {
      load,
      pointerMoves: withSdk.pointerMoves,
      keyPresses: withSdk.keyPresses,
      withoutSdkScriptMs: without.scriptMs,
      withSdkScriptMs: withSdk.scriptMs,
      addedScriptMs,
      addedScriptMsPerSecond: addedScriptMs / (load.durationMs / 1000),
    };

    printResult(result);
    return result;
  } finally {
    await browser.close();
    await collector.close();
  }
}

/** Opens a fresh page, with or without the SDK, and storms it for `load.durationMs`. */
async function stormPage(browser: Browser, origin: string, hasSdk: boolean, load: MainThreadLoad) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const sdkTag = hasSdk ? '<script src="/sdk.js" data-app="example"></script>' : '';
  const html = `<!doctype html><title>main-thread bench</title><textarea id="notes"></textarea>${sdkTag}`;

  try {
    await page.route(`${origin}${PAGE_PATH}`, (route) => route.fulfill({ contentType: 'text/html', body: html }));
    await page.goto(`${origin}${PAGE_PATH}`);
    if (hasSdk) await page.waitForFunction(() => Boolean((window as any).processSessions?.getState().sessionId));
    await page.focus('#notes');

    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    const before = await readScriptSeconds(cdp);
    const counts = await storm(page, load);
    const after = await readScriptSeconds(cdp);

    return { ...counts, scriptMs: (after - before) * 1000 };
  } finally {
    await context.close();
  }
}

/** Sends pointer moves and key presses at the rates of `load` until its duration ends. */
async function storm(page: Page, load: MainThreadLoad) {
  const startedAt = Date.now();
  let pointerMoves = 0;
  let keyPresses = 0;

  for (let elapsedMs = 0; elapsedMs < load.durationMs; elapsedMs = Date.now() - startedAt) {
    const pointerDue = Math.floor((elapsedMs / 1000) * load.pointerMovesPerSecond);
    const keysDue = Math.floor((elapsedMs / 1000) * load.keyPressesPerSecond);

    if (keyPresses < keysDue) {
      await page.keyboard.press('a');
      keyPresses += 1;
    } else if (pointerMoves < pointerDue) {
      await page.mouse.move(100 + (pointerMoves % 400), 100 + ((pointerMoves * 7) % 300));
      pointerMoves += 1;
    } else {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  return { pointerMoves, keyPresses };
}

async function readScriptSeconds(cdp: { send(method: 'Performance.getMetrics'): Promise<{ metrics: { name: string; value: number }[] }> }) {
  const { metrics } = await cdp.send('Performance.getMetrics');

  return metrics.find((metric) => metric.name === 'ScriptDuration')?.value ?? 0;
}

function printResult(result: MainThreadResult): void {
  const seconds = result.load.durationMs / 1000;

  console.log(
    `\nSDK main-thread cost: ${seconds} s storm of ${result.pointerMoves} pointer moves and ` +
      `${result.keyPresses} key presses in headless Chromium`,
  );
  console.log(`  script time without SDK  ${result.withoutSdkScriptMs.toFixed(1)} ms`);
  console.log(`  script time with SDK     ${result.withSdkScriptMs.toFixed(1)} ms`);
  console.log(
    `  added by the SDK         ${result.addedScriptMs.toFixed(1)} ms ` +
      `(${result.addedScriptMsPerSecond.toFixed(2)} ms per second of input)`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const durationMs = Number(process.env.DURATION_MS ?? DEFAULT_MAIN_THREAD_LOAD.durationMs);
  await measureSdkMainThread({ ...DEFAULT_MAIN_THREAD_LOAD, durationMs });
}
