import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { init } from './index.js';
import { startTestCollector, waitUntil } from './test-collector.js';
import type { ProcessSessions } from './types.js';

type Collector = Awaited<ReturnType<typeof startTestCollector>>;

const settle = () => new Promise((resolve) => setTimeout(resolve, 400));

describe('consent', () => {
  let collector: Collector;
  const trackers: ProcessSessions[] = [];
  const start = (options: Partial<Parameters<typeof init>[0]> = {}) => {
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
    vi.restoreAllMocks();
    await collector.close();
  });

  it('required stores nothing before grant', async () => {
    const tracker = start({ consent: 'required' });
    tracker.identify('user-1');
    tracker.track('early');
    window.dispatchEvent(new Event('keydown'));
    await settle();

    expect(localStorage.length).toBe(0);
    expect(sessionStorage.length).toBe(0);
    expect(collector.requests).toEqual([]);
    expect(tracker.getState()).toMatchObject({ state: 'off', sessionId: null, tabId: null, tabs: 0 });

    tracker.grantConsent();
    await waitUntil(() => collector.batches().length > 0);

    expect(tracker.getState().state).toBe('active');
    expect(collector.batches()[0]).toMatchObject({ sessionId: tracker.getState().sessionId, userId: 'user-1' });
    expect(collector.batches().flatMap((batch) => batch.events.map((event) => event.type))).not.toContain('custom');
  });

  it('respects Do Not Track', async () => {
    vi.spyOn(navigator, 'doNotTrack', 'get').mockReturnValue('1');

    expect(start({ respectDoNotTrack: true }).getState().state).toBe('off');
    localStorage.clear();
    expect(start().getState().state).toBe('active');
  });

  it('respects Global Privacy Control', async () => {
    Object.defineProperty(navigator, 'globalPrivacyControl', { configurable: true, get: () => true });

    try {
      const tracker = start({ respectGlobalPrivacyControl: true, consent: 'required' });
      tracker.grantConsent();
      await settle();

      expect(tracker.getState().state).toBe('off');
      expect(collector.requests).toEqual([]);
    } finally {
      delete (navigator as { globalPrivacyControl?: boolean }).globalPrivacyControl;
    }
  });

  it('opt out persists across pages', async () => {
    const tracker = start();
    await waitUntil(() => collector.batches().length > 0);

    tracker.optOut();
    tracker.track('after_opt_out');
    await settle();
    const sent = collector.requests.length;

    expect(tracker.getState().state).toBe('off');
    expect({ ...localStorage }).toEqual({ 'ps:shop:consent': '"out"' });
    expect(sessionStorage.length).toBe(0);

    // The next page of the app reads the stored choice.
    const nextPage = start();
    window.dispatchEvent(new Event('keydown'));
    await settle();

    expect(nextPage.getState().state).toBe('off');
    expect(collector.requests.length).toBe(sent);
  });

  it('opt in overrides signals', async () => {
    vi.spyOn(navigator, 'doNotTrack', 'get').mockReturnValue('1');
    const tracker = start({ consent: 'required', respectDoNotTrack: true });

    tracker.optIn();
    await waitUntil(() => collector.batches().length > 0);

    expect(tracker.getState().state).toBe('active');
    expect(localStorage.getItem('ps:shop:consent')).toBe('"in"');
    expect(start({ consent: 'required', respectDoNotTrack: true }).getState().state).toBe('active');
  });

  it('opt out ends tracking in this tab', async () => {
    const tracker = start();
    const ends: unknown[] = [];
    tracker.on('terminated', (payload) => ends.push(payload));
    const { sessionId } = tracker.getState();

    tracker.optOut();
    await Promise.resolve();

    expect(ends).toEqual([{ sessionId, reason: 'disabled' }]);
    expect(tracker.getState().droppedEvents).toBe(0);
  });

  it('sends user only after identify', async () => {
    const tracker = start();
    await waitUntil(() => collector.batches().length > 0);

    tracker.identify('user-7', { group: 'support' });
    tracker.track('after');
    await waitUntil(() => collector.batches().some((batch) => batch.userId));

    const [anonymous] = collector.batches();
    expect(Object.keys(anonymous!)).not.toContain('userId');
    expect(Object.keys(anonymous!)).not.toContain('userGroup');
    expect(collector.batches().at(-1)).toMatchObject({ userId: 'user-7', userGroup: 'support' });
    expect(() => tracker.identify('user-7', { group: '' })).toThrow('traits.group must be 1 to 128 characters');
  });
});
