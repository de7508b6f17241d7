import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { idSchema } from '../../shared/src/index.js';
import { init } from './index.js';
import { acceptBatch, startTestCollector, waitUntil } from './test-collector.js';
import type { ProcessSessions, TrackerEvents } from './types.js';

type Collector = Awaited<ReturnType<typeof startTestCollector>>;

const IDLE_TIMEOUT_MS = 60_000;
const WARNING_MS = 10_000;
const START = Date.UTC(2026, 0, 5, 9, 0, 0);

function record<K extends keyof TrackerEvents>(tracker: ProcessSessions, name: K) {
  const payloads: TrackerEvents[K][] = [];
  tracker.on(name, (payload) => payloads.push(payload));

  return payloads;
}

describe('tracker', () => {
  let collector: Collector;
  const trackers: ProcessSessions[] = [];
  const start = (options: Partial<Parameters<typeof init>[0]> = {}) => {
    const tracker = init({
      endpoint: collector.endpoint,
      appId: 'shop',
      idleTimeoutMs: IDLE_TIMEOUT_MS,
      warningMs: WARNING_MS,
      flushIntervalMs: 100,
      ...options,
    });
    trackers.push(tracker);

    return tracker;
  };

  beforeEach(async () => {
    localStorage.clear();
    sessionStorage.clear();
    collector = await startTestCollector((batch) =>
      acceptBatch(batch, { idleTimeoutMs: IDLE_TIMEOUT_MS, warningMs: WARNING_MS }),
    );
  });

  afterEach(async () => {
    trackers.splice(0).forEach((tracker) => tracker.stop());
    vi.useRealTimers();
    await collector.close();
  });

  it('sends first batch as text', async () => {
    const tracker = start();
    const { sessionId, tabId } = tracker.getState();

    await waitUntil(() => collector.batches().length > 0);
    const request = collector.requests.find((entry) => entry.method === 'POST')!;
    const [batch] = collector.batches();

    expect(request.contentType).toBe('text/plain;charset=UTF-8');
    expect(batch?.sessionId).toBe(sessionId);
    expect(batch?.tabId).toBe(tabId);
    expect(batch?.appId).toBe('shop');
    expect(batch?.events.map((event) => event.type)).toEqual(['session_start', 'page_view']);
    expect(batch?.events[1]?.data).toMatchObject({ url: location.href });
  });

  it('creates ids valid for the collector', () => {
    const state = start().getState();

    expect(idSchema.safeParse(state.sessionId).success).toBe(true);
    expect(idSchema.safeParse(state.tabId).success).toBe(true);
  });

  it('goes idle by wall clock', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(START);
    const tracker = start();
    const idle = record(tracker, 'idle');
    const firstSession = tracker.getState().sessionId;
    await vi.advanceTimersByTimeAsync(400);

    // A sleeping computer runs no timers: the clock jumps past the deadline at once.
    vi.setSystemTime(START + IDLE_TIMEOUT_MS + 5000);
    expect(tracker.getState().state).toBe('active');
    await vi.advanceTimersByTimeAsync(1000);

    expect(tracker.getState().state).toBe('idle');
    expect(idle).toEqual([{ sessionId: firstSession, idleAt: START + IDLE_TIMEOUT_MS }]);
    await waitUntil(() => collector.batches().some((batch) => batch.events.some((event) => event.type === 'idle')));
    const idleEvent = collector.batches().flatMap((batch) => batch.events).find((event) => event.type === 'idle');
    expect(idleEvent?.ts).toBe(START + IDLE_TIMEOUT_MS);
  });

  it('starts new session on input after sleep', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(START);
    const tracker = start();
    const starts = record(tracker, 'start');
    const actives = record(tracker, 'active');
    const firstSession = tracker.getState().sessionId;
    await vi.advanceTimersByTimeAsync(0);

    vi.setSystemTime(START + 2 * IDLE_TIMEOUT_MS);
    // Waking up focuses the window and shows the page, which are not input.
    window.dispatchEvent(new Event('focus'));
    document.dispatchEvent(new Event('visibilitychange'));

    expect(tracker.getState()).toMatchObject({ sessionId: firstSession, state: 'idle' });
    expect(starts).toHaveLength(1);

    window.dispatchEvent(new Event('keydown'));
    const state = tracker.getState();

    expect(state.sessionId).not.toBe(firstSession);
    expect(state.state).toBe('active');
    expect(starts).toEqual([
      { sessionId: firstSession, isNew: true },
      { sessionId: state.sessionId, isNew: true },
    ]);
    expect(actives).toEqual([{ sessionId: firstSession }, { sessionId: state.sessionId, idleMs: 2 * IDLE_TIMEOUT_MS }]);

    await vi.advanceTimersByTimeAsync(6000);
    await waitUntil(() => collector.batches().some((batch) => batch.sessionId === state.sessionId));
    const events = collector.batches().filter((batch) => batch.sessionId === state.sessionId).flatMap((batch) => batch.events);
    expect(events.map((event) => event.type)).toEqual(expect.arrayContaining(['session_start', 'active', 'page_view']));
    expect(events.find((event) => event.type === 'active')?.data).toEqual({ idleMs: 2 * IDLE_TIMEOUT_MS });
  });

  it('warns then dismisses on input', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(START);
    const tracker = start();
    const warnings = record(tracker, 'warning');
    const actives = record(tracker, 'active');

    vi.setSystemTime(START + IDLE_TIMEOUT_MS - WARNING_MS);
    await vi.advanceTimersByTimeAsync(3000);

    expect(tracker.getState().state).toBe('warning');
    expect(warnings.map((warning) => warning.remainingMs)).toEqual([9000, 8000, 7000]);
    expect(warnings.every((warning) => warning.idleAt === START + IDLE_TIMEOUT_MS)).toBe(true);

    window.dispatchEvent(new Event('keydown'));

    expect(tracker.getState().state).toBe('active');
    expect(actives).toHaveLength(2);
    expect(tracker.getState().idleDeadline).toBe(Date.now() + IDLE_TIMEOUT_MS);
  });

  it('identify adds userId to batches', async () => {
    const tracker = start();

    tracker.identify('user-42');
    tracker.track('login');
    await waitUntil(() => collector.batches().length > 0);

    expect(collector.batches()[0]?.userId).toBe('user-42');
    expect(tracker.getState().userId).toBe('user-42');
    expect(() => tracker.identify('')).toThrow('userId must be 1 to 256 characters without control characters, received ""');
  });

  it('track rejects invalid props', () => {
    const tracker = start();

    expect(() => tracker.track('')).toThrow('name must be 1 to 128 characters');
    expect(() => tracker.track('buy', { nested: { a: 1 } } as never)).toThrow(
      'props.nested must have a key of 1 to 64 characters and a string of up to 1024 characters, a finite number, a boolean or null, received {"a":1}',
    );
    expect(() => tracker.track('buy', Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])))).toThrow(
      'props must be an object with at most 32 keys, received {"k0":0,"k1":1,"k2":2',
    );
    expect(() => tracker.track('buy', { total: Number.NaN })).toThrow('props.total must have');
    expect(() => tracker.track('buy', { '': 1 })).toThrow('props. must have a key of 1 to 64 characters');
    expect(() => tracker.track('buy', [1] as never)).toThrow('props must be an object with at most 32 keys, received [1]');
  });

  it('policy reply overrides timeouts', async () => {
    await collector.close();
    collector = await startTestCollector((batch) => acceptBatch(batch, { idleTimeoutMs: 120_000, warningMs: 20_000 }));
    const tracker = start();

    await waitUntil(() => collector.batches().length > 0);
    await waitUntil(() => {
      const { idleDeadline, lastActivityAt } = tracker.getState();
      return idleDeadline !== null && lastActivityAt !== null && idleDeadline - lastActivityAt === 120_000;
    });

    expect(tracker.getState().state).toBe('active');
  });

  it('new tab starts with stored policy', async () => {
    await collector.close();
    collector = await startTestCollector((batch) => acceptBatch(batch, { idleTimeoutMs: 120_000, warningMs: 20_000 }));
    const first = start();
    await waitUntil(() => localStorage.getItem('ps:shop:policy') !== null);

    // Only the tab holding the flush lock gets replies, so another tab reads the stored policy.
    const second = start();
    const { idleDeadline, lastActivityAt } = second.getState();

    expect(idleDeadline! - lastActivityAt!).toBe(120_000);
    expect(first.getState().idleDeadline! - first.getState().lastActivityAt!).toBe(120_000);
  });

  it('logs only with debug', async () => {
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation(() => {}),
    );
    // happy-dom has no IndexedDB, so both trackers hit a failure worth logging.
    start();
    await waitUntil(() => collector.batches().length > 0);
    expect(spies.every((spy) => spy.mock.calls.length === 0)).toBe(true);

    start({ debug: true });
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(spies[1]!.mock.calls.some(([message]) => String(message).startsWith('[process-sessions]'))).toBe(true);
    vi.restoreAllMocks();
  });
});
