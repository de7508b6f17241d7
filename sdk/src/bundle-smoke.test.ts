import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { batchSchema, type BatchInput } from '../../shared/src/index.js';
import { init } from './index.js';
import { attributeOf } from './script-config.js';
import { acceptBatch, sessionState, startTestCollector, waitUntil } from './test-collector.js';
import { TestEventSource } from './test-event-source.js';
import type { ProcessSessions } from './types.js';

type Collector = Awaited<ReturnType<typeof startTestCollector>>;

const BUNDLE_PATH = resolve(import.meta.dirname, '../dist/process-sessions.iife.js');
const hasBundle = existsSync(BUNDLE_PATH);

const allEvents = (batches: BatchInput[]) => batches.flatMap((batch) => batch.events);

/**
 * Runs the built script-tag bundle, minified with its internal property names shortened, the
 * way a page loads it, and checks what reaches a real HTTP server on 127.0.0.1.
 */
describe('built bundle', () => {
  let collector: Collector;
  const trackers: ProcessSessions[] = [];

  /** Evaluates the bundle with `attributes` on the script tag it reads its options from. */
  const runBundle = (attributes: Record<string, string>) => {
    const script = document.createElement('script');
    for (const [name, value] of Object.entries(attributes)) script.setAttribute(name, value);
    vi.spyOn(document, 'currentScript', 'get').mockReturnValue(script);

    // Indirect eval runs the bundle in global scope, as a classic script runs.
    (0, eval)(readFileSync(BUNDLE_PATH, 'utf8'));
    const tracker = window.processSessions!;
    trackers.push(tracker);

    return tracker;
  };

  beforeEach(async ({ skip }) => {
    skip(!hasBundle, `${BUNDLE_PATH} is missing: run \`npm run build\` first`);
    localStorage.clear();
    sessionStorage.clear();
    collector = await startTestCollector();
  });

  afterEach(async () => {
    trackers.splice(0).forEach((tracker) => tracker.stop());
    delete window.processSessions;
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
    await collector?.close();
  });

  it('sends batch with wire names', async () => {
    const tracker = runBundle({
      [attributeOf('appId')]: 'shop',
      [attributeOf('endpoint')]: collector.endpoint,
      [attributeOf('flushIntervalMs')]: '100',
    });
    tracker.identify('user-7');
    tracker.track('checkout', { total: 12.5 });

    await waitUntil(() => allEvents(collector.batches()).length >= 3);
    const [batch] = collector.batches();
    const [start, pageView, custom] = batch!.events;

    expect(Object.keys(batch!).sort()).toEqual(['appId', 'clientId', 'events', 'sentAt', 'sessionId', 'tabId', 'userId', 'v']);
    expect(batch).toMatchObject({ v: 1, appId: 'shop', sessionId: tracker.getState().sessionId, userId: 'user-7' });
    expect(Object.keys(start!).sort()).toEqual(['data', 'id', 'ts', 'type']);
    expect(start).toMatchObject({ type: 'session_start', data: { tabs: 1 } });
    expect(pageView).toMatchObject({ type: 'page_view', data: { url: location.href } });
    expect(custom).toMatchObject({ type: 'custom', data: { name: 'checkout', props: { total: 12.5 } } });
    expect(batchSchema.safeParse(batch).error).toBeUndefined();
  });

  it('keeps public API names', async () => {
    const tracker = runBundle({ [attributeOf('appId')]: 'shop', [attributeOf('endpoint')]: collector.endpoint });
    const starts: unknown[] = [];
    tracker.on('start', (payload) => starts.push(payload));
    const { sessionId } = tracker.getState();
    await Promise.resolve();

    expect(starts).toEqual([{ sessionId, isNew: true }]);

    expect(Object.keys(tracker).sort()).toEqual([
      'end',
      'getState',
      'grantConsent',
      'identify',
      'on',
      'optIn',
      'optOut',
      'stop',
      'track',
    ]);
    expect(Object.keys(tracker.getState()).sort()).toEqual([
      'droppedEvents',
      'endReason',
      'idleDeadline',
      'isLeader',
      'lastActivityAt',
      'sessionId',
      'state',
      'tabId',
      'tabs',
      'userId',
    ]);
    expect(() => tracker.track('')).toThrow('name must be 1 to 128 characters');

    window.dispatchEvent(new Event('keydown'));
    await tracker.end();
    const events = allEvents(collector.batches());

    expect(events.find((event) => event.type === 'activity')?.data).toEqual({ kind: 'key', count: 1 });
    expect(events.find((event) => event.type === 'session_end')?.data).toEqual({ reason: 'logout' });
    expect(collector.batches().every((batch) => batch.sessionId === sessionId)).toBe(true);
    expect(tracker.getState().state).toBe('stopped');
  });

  it('beacons queue on pagehide', async () => {
    const tracker = runBundle({ [attributeOf('appId')]: 'shop', [attributeOf('endpoint')]: collector.endpoint });
    tracker.track('checkout');

    window.dispatchEvent(new Event('pagehide'));
    await waitUntil(() => collector.batches().length === 1);

    expect(collector.requests[0]?.contentType).toBe('text/plain;charset=UTF-8');
    expect(collector.batches()[0]?.events.map((event) => event.type)).toEqual([
      'session_start',
      'page_view',
      'custom',
      'tab_closed',
    ]);
  });

  it('warns then goes idle', async () => {
    await collector.close();
    collector = await startTestCollector((batch) => acceptBatch(batch, { idleTimeoutMs: 3000, warningMs: 2000 }));
    const tracker = runBundle({
      [attributeOf('appId')]: 'shop',
      [attributeOf('endpoint')]: collector.endpoint,
      [attributeOf('idleTimeoutMs')]: '3000',
      [attributeOf('warningMs')]: '2000',
      [attributeOf('flushIntervalMs')]: '100',
    });
    const warnings: unknown[] = [];
    tracker.on('warning', (payload) => warnings.push(payload));

    // Checks run once a second, so at least one falls in the 2 s warning phase.
    await waitUntil(() => tracker.getState().state === 'idle', 6000);
    await waitUntil(() => allEvents(collector.batches()).some((event) => event.type === 'idle'));

    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings[0]).toMatchObject({ sessionId: tracker.getState().sessionId, remainingMs: expect.any(Number) });
    expect(allEvents(collector.batches()).find((event) => event.type === 'idle')?.data).toEqual({ idleTimeoutMs: 3000 });
  }, 10_000);

  it('retries server failure once', async () => {
    await collector.close();
    let replies = 0;
    collector = await startTestCollector((batch) =>
      replies++ === 0 ? { status: 500, body: { code: 'internal_error', message: 'broken' } } : acceptBatch(batch),
    );
    runBundle({
      [attributeOf('appId')]: 'shop',
      [attributeOf('endpoint')]: collector.endpoint,
      [attributeOf('flushIntervalMs')]: '100',
    });

    await waitUntil(() => collector.batches().length >= 2);
    const [failed, retried] = collector.requests.filter((request) => request.method === 'POST');

    // ky resends the same body, with the same `sentAt`, while a later flush would pack a new one.
    expect(retried?.body).toBe(failed?.body);
  });

  it('applies state from stream', async () => {
    vi.stubGlobal('EventSource', TestEventSource);
    await collector.close();
    collector = await startTestCollector(undefined, (sessionId, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const ended = sessionState(sessionId, { state: 'ended', endedAt: 2, endReason: 'terminated' });
      response.write(`event: state\ndata: ${JSON.stringify(ended)}\n\n`);
    });
    const tracker = runBundle({
      [attributeOf('appId')]: 'shop',
      [attributeOf('endpoint')]: collector.endpoint,
      [attributeOf('flushIntervalMs')]: '100',
    });

    await waitUntil(() => tracker.getState().state === 'terminated');

    expect(collector.streams()).toHaveLength(1);
    expect(collector.streams()[0]?.url).toBe(`/v1/sessions/${tracker.getState().sessionId}/stream`);
    expect(tracker.getState().endReason).toBe('terminated');
  });

  it('shares session with module build', async () => {
    const bundled = runBundle({ [attributeOf('appId')]: 'shop', [attributeOf('endpoint')]: collector.endpoint });
    // The npm build in another tab reads the record and messages the bundle wrote.
    const npmTracker = init({ endpoint: collector.endpoint, appId: 'shop' });
    trackers.push(npmTracker);

    await waitUntil(() => bundled.getState().tabs === 2 && npmTracker.getState().tabs === 2);

    expect(npmTracker.getState().sessionId).toBe(bundled.getState().sessionId);
    expect(JSON.parse(localStorage.getItem('ps:shop:session')!)).toMatchObject({
      id: bundled.getState().sessionId,
      startedAt: expect.any(Number),
      lastActivityAt: expect.any(Number),
    });
  });
});
