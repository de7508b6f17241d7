import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { batchSchema, type BatchInput } from '../../shared/src/index.js';
import { init } from './index.js';
import { SCRIPT_ATTRIBUTES } from './script-config.js';
import { startTestCollector, waitUntil } from './test-collector.js';
import type { ProcessSessions } from './types.js';

type Collector = Awaited<ReturnType<typeof startTestCollector>>;

const BUNDLE_PATH = resolve(import.meta.dirname, '../dist/process-sessions.iife.js');
const hasBundle = existsSync(BUNDLE_PATH);

const allEvents = (batches: BatchInput[]) => batches.flatMap((batch) => batch.events);

/**
 * Runs the built script-tag bundle, minified as it ships, the way a page loads it, and
 * checks what reaches a real HTTP server on 127.0.0.1.
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
    await collector?.close();
  });

  it('sends batch with wire names', async () => {
    const tracker = runBundle({
      [SCRIPT_ATTRIBUTES.appId]: 'shop',
      [SCRIPT_ATTRIBUTES.endpoint]: collector.endpoint,
      [SCRIPT_ATTRIBUTES.flushIntervalMs]: '100',
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
    const tracker = runBundle({ [SCRIPT_ATTRIBUTES.appId]: 'shop', [SCRIPT_ATTRIBUTES.endpoint]: collector.endpoint });
    const starts: unknown[] = [];
    tracker.on('start', (payload) => starts.push(payload));
    const { sessionId } = tracker.getState();
    await Promise.resolve();

    expect(starts).toEqual([{ sessionId, isNew: true }]);

    expect(Object.keys(tracker.getState()).sort()).toEqual([
      'endReason',
      'idleDeadline',
      'lastActivityAt',
      'sessionId',
      'state',
      'tabId',
      'tabs',
      'userId',
    ]);
    expect(() => tracker.track('')).toThrow('name must be 1 to 128 characters');

    await tracker.end();
    const end = allEvents(collector.batches()).find((event) => event.type === 'session_end');

    expect(end?.data).toEqual({ reason: 'logout' });
    expect(collector.batches().every((batch) => batch.sessionId === sessionId)).toBe(true);
    expect(tracker.getState().state).toBe('stopped');
  });

  it('shares session with module build', async () => {
    const bundled = runBundle({ [SCRIPT_ATTRIBUTES.appId]: 'shop', [SCRIPT_ATTRIBUTES.endpoint]: collector.endpoint });
    // The npm build in another tab reads the record and messages the bundle wrote.
    const module = init({ endpoint: collector.endpoint, appId: 'shop' });
    trackers.push(module);

    await waitUntil(() => bundled.getState().tabs === 2 && module.getState().tabs === 2);

    expect(module.getState().sessionId).toBe(bundled.getState().sessionId);
    expect(JSON.parse(localStorage.getItem('ps:shop:session')!)).toMatchObject({
      id: bundled.getState().sessionId,
      startedAt: expect.any(Number),
      lastActivityAt: expect.any(Number),
    });
  });
});
