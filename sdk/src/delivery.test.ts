import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BatchInput } from '../../shared/src/index.js';
import { init } from './index.js';
import { acceptBatch, sessionState, startTestCollector, waitUntil, type TestReply } from './test-collector.js';
import type { ProcessSessions, TrackerEvents } from './types.js';

type Collector = Awaited<ReturnType<typeof startTestCollector>>;

const eventTypes = (batches: BatchInput[]) => batches.flatMap((batch) => batch.events.map((event) => event.type));

/** Events of session `sessionId` across `batches`, without duplicates of a resent batch. */
function eventsOf(batches: BatchInput[], sessionId: string | null) {
  const events = batches.filter((batch) => batch.sessionId === sessionId).flatMap((batch) => batch.events);

  return events.filter((event, index) => events.findIndex((other) => other.id === event.id) === index);
}

/** Makes the page hidden or visible and fires `visibilitychange`, as switching tabs does. */
function setVisibility(state: DocumentVisibilityState) {
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
  document.dispatchEvent(new Event('visibilitychange'));
}

describe('delivery', () => {
  let collector: Collector | undefined;
  let reply: (batch: BatchInput) => TestReply;
  const trackers: ProcessSessions[] = [];
  const start = async (options: { maxBatchSize?: number; flushIntervalMs?: number } = {}) => {
    collector = await startTestCollector((batch) => reply(batch));
    const tracker = init({ endpoint: collector.endpoint, appId: 'shop', flushIntervalMs: 100, ...options });
    trackers.push(tracker);

    return { tracker, collector };
  };

  beforeEach(() => {
    localStorage.clear();
    sessionStorage.clear();
    reply = (batch) => acceptBatch(batch);
  });

  afterEach(async () => {
    trackers.splice(0).forEach((tracker) => tracker.stop());
    delete (document as { visibilityState?: unknown }).visibilityState;
    vi.restoreAllMocks();
    await collector?.close();
    collector = undefined;
  });

  it('ended reply stops sending', async () => {
    reply = (batch) => ({
      ...acceptBatch(batch),
      body: {
        accepted: batch.events.length,
        duplicates: 0,
        rejected: [],
        session: sessionState(batch.sessionId, { state: 'ended', endedAt: 2, endReason: 'terminated' }),
      },
    });
    const { tracker, collector } = await start();
    const terminated: TrackerEvents['terminated'][] = [];
    tracker.on('terminated', (payload) => terminated.push(payload));

    await waitUntil(() => tracker.getState().state === 'terminated');
    const sent = collector.batches().length;
    tracker.track('after_end');
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(terminated).toEqual([{ sessionId: tracker.getState().sessionId, reason: 'terminated' }]);
    expect(tracker.getState().endReason).toBe('terminated');
    expect(collector.batches()).toHaveLength(sent);
  });

  it('410 reply ends session', async () => {
    reply = (batch) => ({
      status: 410,
      body: {
        code: 'session_ended',
        message: 'session ended',
        session: sessionState(batch.sessionId, { state: 'ended', endedAt: 2, endReason: 'absolute' }),
      },
    });
    const { tracker } = await start();
    const errors: TrackerEvents['error'][] = [];
    tracker.on('error', (error) => errors.push(error));

    await waitUntil(() => tracker.getState().state === 'terminated');

    expect(tracker.getState().endReason).toBe('absolute');
    expect(errors).toEqual([]);
  });

  it('rejected events reported, not resent', async () => {
    let isFirst = true;
    reply = (batch) => {
      const accepted = acceptBatch(batch);
      if (!isFirst) return accepted;
      isFirst = false;
      const rejected = [{ index: 0, id: batch.events[0]!.id, code: 'session_limit', message: 'tab over maxTabs (1)' }];
      return { ...accepted, body: { ...(accepted.body as object), rejected } };
    };
    const { tracker, collector } = await start();
    const errors: TrackerEvents['error'][] = [];
    tracker.on('error', (error) => errors.push(error));

    await waitUntil(() => errors.length === 1);
    tracker.track('after_rejection');
    await waitUntil(() => collector.batches().some((batch) => batch.events.some((event) => event.type === 'custom')));

    expect(errors[0]?.code).toBe('session_limit');
    expect(errors[0]?.message).toBe('Events not delivered: tab over maxTabs (1)');
    expect(errors).toHaveLength(1);
    // A 200 reply delivered the batch, so none of its events is sent again.
    const ids = collector.batches().flatMap((batch) => batch.events.map((event) => event.id));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('409 reply reports session limit', async () => {
    reply = () => ({ status: 409, body: { code: 'session_limit', message: 'at most 3 sessions per user' } });
    const { tracker, collector } = await start();
    const errors: TrackerEvents['error'][] = [];
    tracker.on('error', (error) => errors.push(error));

    await waitUntil(() => errors.length === 1);
    window.dispatchEvent(new Event('keydown'));
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(errors[0]?.code).toBe('session_limit');
    expect(errors[0]?.message).toContain('at most 3 sessions per user');
    expect(tracker.getState().state).toBe('terminated');
    expect(tracker.getState().endReason).toBe('session_limit');
    // The limit is not retried by starting another session on input.
    expect(new Set(collector.batches().map((batch) => batch.sessionId)).size).toBe(1);
  });

  it('backs off 503 with jitter', async () => {
    let failures = 0;
    const arrivals: number[] = [];
    reply = (batch) => {
      arrivals.push(performance.now());
      if (failures >= 2) return acceptBatch(batch);
      failures += 1;

      return { status: 503, body: { code: 'internal_error', message: 'try later' } };
    };
    // The smallest jitter factor, 0.5, gives the shortest waits the policy allows.
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const { tracker, collector } = await start();

    await waitUntil(() => collector.requests.length === 3);
    const [first, second, third] = collector.batches();

    // flushIntervalMs × 2^failures × 0.5: 100 ms after one failure, 200 ms after two.
    expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(95);
    expect(arrivals[2]! - arrivals[1]!).toBeGreaterThanOrEqual(195);
    expect(second?.events.slice(0, 2)).toEqual(first?.events);
    expect(third?.events.slice(0, 2)).toEqual(first?.events);
    await waitUntil(() => JSON.parse(localStorage.getItem('ps:shop:backoff')!).failures === 0);
    expect(tracker.getState().state).toBe('active');
  });

  it('waits out Retry-After in every tab', async () => {
    const arrivals: number[] = [];
    reply = (batch) => {
      arrivals.push(performance.now());
      if (arrivals.length > 1) return acceptBatch(batch);

      return { status: 429, body: { code: 'rate_limited', message: 'slow down' }, headers: { 'retry-after': '1' } };
    };
    const { collector } = await start();
    await waitUntil(() => arrivals.length === 1);
    // A second tab of the app reads the same backoff from localStorage.
    trackers.push(init({ endpoint: collector.endpoint, appId: 'shop', flushIntervalMs: 100 }));

    await waitUntil(() => arrivals.length === 2);

    expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(950);
  });

  it('treats 410 as final', async () => {
    reply = () => ({ status: 410, body: 'Gone' });
    const { tracker, collector } = await start();
    const errors: TrackerEvents['error'][] = [];
    tracker.on('error', (error) => errors.push(error));

    await waitUntil(() => tracker.getState().state === 'terminated');
    const sent = collector.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 400));

    expect(tracker.getState().endReason).toBe('terminated');
    expect(collector.requests.length).toBe(sent);
    expect(errors).toEqual([]);
  });

  it('offline events keep session and time', async () => {
    let isDown = true;
    reply = (batch) =>
      isDown
        ? { status: 503, body: { code: 'internal_error', message: 'offline' } }
        : acceptBatch(batch, { idleTimeoutMs: 2000, warningMs: 1000 });
    collector = await startTestCollector((batch) => reply(batch));
    const tracker = init({ endpoint: collector.endpoint, appId: 'shop', flushIntervalMs: 100, idleTimeoutMs: 2000, warningMs: 1000 });
    trackers.push(tracker);
    const firstSession = tracker.getState().sessionId;
    const trackedAt = Date.now();
    tracker.track('offline');
    const { idleDeadline } = tracker.getState();

    await waitUntil(() => tracker.getState().state === 'idle', 4000);
    window.dispatchEvent(new Event('keydown'));
    const secondSession = tracker.getState().sessionId;
    isDown = false;
    window.dispatchEvent(new Event('online'));
    await waitUntil(() => collector!.batches().some((batch) => batch.sessionId === secondSession));
    await waitUntil(() => eventsOf(collector!.batches(), firstSession).some((event) => event.type === 'idle'));

    const firstEvents = eventsOf(collector.batches(), firstSession);
    const custom = firstEvents.find((event) => event.type === 'custom');
    expect(secondSession).not.toBe(firstSession);
    expect(custom?.ts).toBeGreaterThanOrEqual(trackedAt);
    expect(custom?.ts).toBeLessThanOrEqual(trackedAt + 50);
    expect(firstEvents.find((event) => event.type === 'idle')?.ts).toBe(idleDeadline);
    // The late upload carries the old times, so the old session ends where it went idle.
    expect(firstEvents.every((event) => Number(event.ts) <= idleDeadline!)).toBe(true);
  });

  it('drops batch on 400', async () => {
    reply = () => ({ status: 400, body: { code: 'invalid_batch', message: 'events.0.ts: invalid' } });
    const { tracker, collector } = await start();
    const errors: TrackerEvents['error'][] = [];
    tracker.on('error', (error) => errors.push(error));

    await waitUntil(() => errors.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 300));

    const sentIds = collector.batches().flatMap((batch) => batch.events.map((event) => event.id));

    expect(errors[0]?.code).toBe('invalid_batch');
    expect(errors[0]?.message).toContain('events.0.ts: invalid');
    // A rejected batch is dropped, not sent again.
    expect(new Set(sentIds).size).toBe(sentIds.length);
  });

  it('flushes full batch early', async () => {
    const { tracker, collector } = await start({ maxBatchSize: 5, flushIntervalMs: 600_000 });

    for (let index = 0; index < 3; index += 1) tracker.track('step', { index });
    await waitUntil(() => collector.batches().length === 1);

    expect(eventTypes(collector.batches())).toEqual(['session_start', 'page_view', 'custom', 'custom', 'custom']);
  });

  it('beacons queue on pagehide', async () => {
    const { tracker, collector } = await start({ flushIntervalMs: 600_000 });
    tracker.track('checkout', { total: 12.5 });

    window.dispatchEvent(new Event('pagehide'));
    await waitUntil(() => collector.batches().length === 1);
    const [request] = collector.requests;

    expect(request?.contentType).toBe('text/plain;charset=UTF-8');
    expect(eventTypes(collector.batches())).toEqual(['session_start', 'page_view', 'custom', 'tab_closed']);
  });

  it('beacons queue when hidden', async () => {
    const { tracker, collector } = await start({ flushIntervalMs: 600_000 });
    tracker.track('checkout');
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });

    try {
      document.dispatchEvent(new Event('visibilitychange'));
    } finally {
      delete (document as { visibilityState?: unknown }).visibilityState;
    }
    await waitUntil(() => collector.batches().length === 1);

    expect(eventTypes(collector.batches())).toEqual(['session_start', 'page_view', 'custom']);
  });

  it('falls back when beacon refused', async () => {
    // Browsers refuse a beacon when their keepalive quota is used up.
    const sendBeacon = vi.spyOn(navigator, 'sendBeacon').mockReturnValue(false);
    const { tracker, collector } = await start({ flushIntervalMs: 600_000 });
    tracker.track('checkout');

    window.dispatchEvent(new Event('pagehide'));
    await waitUntil(() => collector.batches().length === 1);

    expect(sendBeacon).toHaveBeenCalledTimes(1);
    expect(collector.requests[0]?.contentType).toBe('text/plain;charset=UTF-8');
    expect(eventTypes(collector.batches())).toEqual(['session_start', 'page_view', 'custom', 'tab_closed']);
  });

  it('flushes once per hide', async () => {
    const { tracker, collector } = await start({ flushIntervalMs: 600_000 });
    tracker.track('checkout');

    setVisibility('hidden');
    setVisibility('hidden');
    await waitUntil(() => collector.batches().length === 1);
    window.dispatchEvent(new Event('pagehide'));
    await waitUntil(() => collector.batches().length === 2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const sentIds = collector.batches().flatMap((batch) => batch.events.map((event) => event.id));

    expect(collector.batches().map((batch) => batch.events.map((event) => event.type))).toEqual([
      ['session_start', 'page_view', 'custom'],
      ['tab_closed'],
    ]);
    expect(new Set(sentIds).size).toBe(sentIds.length);
  });

  it('flushes again after visible', async () => {
    const { tracker, collector } = await start({ flushIntervalMs: 600_000 });

    setVisibility('hidden');
    await waitUntil(() => collector.batches().length === 1);
    setVisibility('visible');
    tracker.track('back');
    setVisibility('hidden');
    await waitUntil(() => collector.batches().length === 2);

    expect(collector.batches()[1]?.events.map((event) => event.type)).toEqual(['custom']);
  });

  it('keeps queue when offline on hide', async () => {
    const { tracker, collector } = await start({ flushIntervalMs: 600_000 });
    const sendBeacon = vi.spyOn(navigator, 'sendBeacon');
    vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(false);
    tracker.track('checkout');

    setVisibility('hidden');
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(sendBeacon).not.toHaveBeenCalled();
    expect(collector.requests).toEqual([]);
    vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(true);
    window.dispatchEvent(new Event('online'));
    await waitUntil(() => collector.batches().length === 1);
    expect(collector.batches()[0]?.events.map((event) => event.type)).toEqual(['session_start', 'page_view', 'custom']);
  });

  it('adds no unload listener', async () => {
    const added: string[] = [];
    for (const target of [window, document]) {
      const original = target.addEventListener.bind(target);
      vi.spyOn(target, 'addEventListener').mockImplementation((type, listener, options) => {
        added.push(type);
        original(type, listener, options);
      });
    }
    const { tracker } = await start();
    tracker.track('checkout');
    window.dispatchEvent(new Event('pagehide'));

    expect(added).toEqual(expect.arrayContaining(['pagehide', 'visibilitychange', 'pointerdown', 'keydown']));
    expect(added).not.toContain('unload');
    expect(added).not.toContain('beforeunload');
  });

  it('drops and counts oversized event', async () => {
    const { tracker, collector } = await start();
    const errors: TrackerEvents['error'][] = [];
    tracker.on('error', (error) => errors.push(error));
    // 32 values of 1024 characters, each "€" 3 bytes of UTF-8, make about 98 KiB of JSON.
    const props = Object.fromEntries(Array.from({ length: 32 }, (_, index) => [`part${index}`, '€'.repeat(1024)]));

    tracker.track('huge', props);
    tracker.track('small');
    await waitUntil(() => eventTypes(collector.batches()).includes('custom'));

    expect(tracker.getState().droppedEvents).toBe(1);
    expect(errors.map((error) => error.code)).toEqual(['event_too_large']);
    expect(errors[0]?.message).toBe('custom event "huge" dropped: its JSON is over 61440 bytes');
    const custom = collector.batches().flatMap((batch) => batch.events.filter((event) => event.type === 'custom'));
    expect(custom.map((event) => (event.data as { name: string }).name)).toEqual(['small']);
  });

  it('sends page view on popstate', async () => {
    const { collector } = await start();

    history.replaceState({}, '', '/orders');
    window.dispatchEvent(new PopStateEvent('popstate'));
    await waitUntil(() => eventTypes(collector.batches()).filter((type) => type === 'page_view').length === 2);
    const views = collector.batches().flatMap((batch) => batch.events.filter((event) => event.type === 'page_view'));

    expect((views[1]?.data as { url: string }).url).toBe('http://localhost:3000/orders');
    history.replaceState({}, '', '/');
  });

  it('sends page view on pushState', async () => {
    const { collector } = await start();

    history.pushState({}, '', '/cart');
    history.pushState({}, '', '/cart');
    await waitUntil(() => eventTypes(collector.batches()).filter((type) => type === 'page_view').length === 2);
    const views = collector.batches().flatMap((batch) => batch.events.filter((event) => event.type === 'page_view'));

    expect(views.map((event) => (event.data as { url: string }).url)).toEqual([
      'http://localhost:3000/',
      'http://localhost:3000/cart',
    ]);
    history.pushState({}, '', '/');
  });
});
