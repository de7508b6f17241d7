import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { init } from './index.js';
import { acceptBatch, startTestCollector, waitUntil } from './test-collector.js';
import type { ProcessSessions, TrackerEvents } from './types.js';

type Collector = Awaited<ReturnType<typeof startTestCollector>>;

/**
 * Two trackers in one window stand for two tabs: they share localStorage and
 * sessionStorage, and Node's BroadcastChannel carries their messages.
 */
describe('tabs', () => {
  let collector: Collector;
  const trackers: ProcessSessions[] = [];
  const openTab = (options: { idleTimeoutMs?: number; warningMs?: number } = {}) => {
    const tracker = init({ endpoint: collector.endpoint, appId: 'shop', flushIntervalMs: 100, ...options });
    trackers.push(tracker);

    return tracker;
  };

  beforeEach(async () => {
    localStorage.clear();
    sessionStorage.clear();
    collector = await startTestCollector();
  });

  afterEach(async () => {
    trackers.splice(0).forEach((tracker) => tracker.stop());
    await collector.close();
  });

  it('share one session and count', async () => {
    const first = openTab();
    const second = openTab();
    const counts: TrackerEvents['tabs'][] = [];
    first.on('tabs', (payload) => counts.push(payload));

    await waitUntil(() => first.getState().tabs === 2 && second.getState().tabs === 2);

    expect(second.getState().sessionId).toBe(first.getState().sessionId);
    expect(counts.at(-1)).toEqual({ tabs: 2 });
  });

  it('duplicated tab picks new id', async () => {
    const first = openTab();
    // Both trackers read one sessionStorage, like a duplicated tab reads a copy of it.
    const second = openTab();

    await waitUntil(() => first.getState().tabs === 2 && second.getState().tabs === 2);
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(first.getState().tabId).not.toBe(second.getState().tabId);
    expect(first.getState().tabs).toBe(2);
    expect(second.getState().tabs).toBe(2);
  });

  it('original tab keeps its id', async () => {
    const first = openTab();
    const originalId = first.getState().tabId;
    await new Promise((resolve) => setTimeout(resolve, 20));

    const second = openTab();
    await waitUntil(() => first.getState().tabs === 2 && second.getState().tabs === 2);
    // Stale ids would inflate the count, so it must stay at 2 after every reply arrived.
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(first.getState().tabId).toBe(originalId);
    expect(second.getState().tabId).not.toBe(originalId);
    expect(first.getState().tabs).toBe(2);
    expect(second.getState().tabs).toBe(2);
  });

  it('joined tab sends page view only', async () => {
    const first = openTab();
    const second = openTab();
    const sessionId = first.getState().sessionId;

    await waitUntil(() => collector.batches().filter((batch) => batch.events.some((e) => e.type === 'tab_opened')).length === 2);
    const starts = collector.batches().flatMap((batch) => batch.events.filter((event) => event.type === 'session_start'));
    const opened = collector.batches().flatMap((batch) => batch.events.filter((event) => event.type === 'tab_opened'));

    const views = collector.batches().flatMap((batch) => batch.events.filter((event) => event.type === 'page_view'));

    expect(second.getState().sessionId).toBe(sessionId);
    expect(starts).toHaveLength(1);
    expect(views).toHaveLength(2);
    expect(opened.map((event) => event.data)).toEqual([{ tabs: 2 }, { tabs: 2 }]);
  });

  it('closing tab says bye', async () => {
    const first = openTab();
    const second = openTab();
    await waitUntil(() => first.getState().tabs === 2);

    second.stop();
    await waitUntil(() => first.getState().tabs === 1);
    await waitUntil(() => collector.batches().some((batch) => batch.events.some((e) => e.type === 'tab_closed')));
    const closed = collector.batches().flatMap((batch) => batch.events.filter((event) => event.type === 'tab_closed'));

    expect(closed.map((event) => event.data)).toEqual([{ tabs: 1 }]);
  });

  it('logout ends session everywhere', async () => {
    const first = openTab();
    const second = openTab();
    const terminated: TrackerEvents['terminated'][] = [];
    second.on('terminated', (payload) => terminated.push(payload));
    await waitUntil(() => second.getState().tabs === 2);

    await first.end();
    await waitUntil(() => terminated.length === 1);

    expect(first.getState().state).toBe('stopped');
    expect(first.getState().endReason).toBe('logout');
    expect(second.getState().state).toBe('terminated');
    expect(terminated).toEqual([{ sessionId: first.getState().sessionId, reason: 'logout' }]);
    const ends = collector.batches().flatMap((batch) => batch.events.filter((event) => event.type === 'session_end'));
    expect(ends.map((event) => event.data)).toEqual([{ reason: 'logout' }]);
  });

  it('first event uses rotated session', async () => {
    const first = openTab();
    const second = openTab();
    const oldSessionId = first.getState().sessionId;
    await first.end();
    await waitUntil(() => second.getState().state === 'terminated');

    // Another tab logs in and begins a session; `second` tracks before its message arrives.
    const third = openTab();
    second.track('after_login');

    expect(second.getState().sessionId).toBe(third.getState().sessionId);
    expect(second.getState().sessionId).not.toBe(oldSessionId);
    await waitUntil(() => collector.batches().some((batch) => batch.events.some((event) => event.type === 'custom')));
    const batch = collector.batches().find((entry) => entry.events.some((event) => event.type === 'custom'));
    expect(batch?.sessionId).toBe(third.getState().sessionId);
    expect(batch?.tabId).toBe(second.getState().tabId);
  });

  it('warning ends on other tab input', async () => {
    await collector.close();
    collector = await startTestCollector((batch) => acceptBatch(batch, { idleTimeoutMs: 3000, warningMs: 2500 }));
    const first = openTab({ idleTimeoutMs: 3000, warningMs: 2500 });
    const second = openTab({ idleTimeoutMs: 3000, warningMs: 2500 });
    const { sessionId } = first.getState();
    await waitUntil(() => first.getState().state === 'warning' && second.getState().state === 'warning', 2000);

    // An input in another tab of the app reaches both by message and by the stored record.
    const otherTab = new BroadcastChannel('ps:shop');
    otherTab.postMessage({ t: 'act', id: sessionId, at: Date.now(), from: 'other-tab' });
    otherTab.close();

    await waitUntil(() => first.getState().state === 'active' && second.getState().state === 'active', 500);
  });

  it('stopped tab stays stopped', async () => {
    const first = openTab();
    await first.end();
    // Another tab logs in and begins a session that the stopped tracker could read.
    openTab();

    first.track('after_stop');
    await new Promise((resolve) => setTimeout(resolve, 200));

    expect(first.getState().state).toBe('stopped');
    expect(collector.batches().flatMap((batch) => batch.events).some((event) => event.type === 'custom')).toBe(false);
  });
});
