/**
 * Termination latency: three tabs of one browser share a session; an admin
 * terminates it and each tab's time to show `terminated` is measured.
 */
import type { Page } from 'playwright-core';
import { launchBrowser } from '../../examples/e2e/browser.js';
import { startCollectorUnderTest } from '../../examples/e2e/collector-under-test.js';

/** Milliseconds from the terminate request until each tab reported `terminated`. */
export interface TerminationResult {
  tabMs: number[];
  maxMs: number;
}

const TABS = 3;

/** Waits in the page for `terminated` and returns the page's own clock at that moment. */
function watchTermination(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        const sessions = (window as any).processSessions;
        if (sessions.getState().state === 'terminated') resolve(Date.now());
        sessions.on('terminated', () => resolve(Date.now()));
      }),
  );
}

/** Runs `rounds` terminations, each of a fresh three-tab session, and returns each round's figures. */
export async function benchTermination(rounds = 5): Promise<TerminationResult[]> {
  const collector = await startCollectorUnderTest();
  const browser = await launchBrowser();
  const results: TerminationResult[] = [];

  try {
    for (let round = 0; round < rounds; round += 1) {
      const context = await browser.newContext();
      const pages: Page[] = [];
      for (let tab = 0; tab < TABS; tab += 1) {
        const page = await context.newPage();
        await page.goto(collector.url);
        await page.waitForFunction(() => Boolean((window as any).processSessions?.getState().sessionId));
        pages.push(page);
      }
      const sessionId: string = await pages[0]!.evaluate(
        () => (window as any).processSessions.getState().sessionId,
      );
      // The stream opens after the collector has acknowledged the session.
      await pages[0]!.waitForFunction(() => (window as any).processSessions.getState().tabs === 3);
      await new Promise((resolve) => setTimeout(resolve, 4000));

      const watchers = pages.map(watchTermination);
      const startedAt = Date.now();
      const reply = await collector.admin('POST', `/v1/admin/sessions/${sessionId}/terminate`, {
        reason: 'benchmark',
      });
      if (reply.status !== 200) throw new Error(`terminate answered ${reply.status}`);
      const tabMs = (await Promise.all(watchers)).map((at) => at - startedAt);

      results.push({ tabMs, maxMs: Math.max(...tabMs) });
      await context.close();
    }
  } finally {
    await browser.close();
    await collector.close();
  }
  return results;
}
