import type { ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BatchInput, SessionState } from '../../shared/src/index.js';
import { init } from './index.js';
import { STREAM_RETRY_MS } from './server-stream.js';
import {
  acceptBatch,
  sessionState,
  startTestCollector,
  waitUntil,
  type StreamHandler,
  type TestReply,
} from './test-collector.js';
import { TestEventSource } from './test-event-source.js';
import type { ProcessSessions } from './types.js';

type Collector = Awaited<ReturnType<typeof startTestCollector>>;

function writeState(response: ServerResponse, state: SessionState) {
  response.write(`event: state\ndata: ${JSON.stringify(state)}\n\n`);
}

describe('server stream', () => {
  let collector: Collector | undefined;
  let tracker: ProcessSessions | undefined;
  const start = async (reply: (batch: BatchInput) => TestReply, stream: StreamHandler) => {
    collector = await startTestCollector(reply, stream);
    tracker = init({ endpoint: collector.endpoint, appId: 'shop', flushIntervalMs: 100 });

    return { tracker, collector };
  };

  beforeEach(() => {
    localStorage.clear();
    sessionStorage.clear();
    TestEventSource.instances.length = 0;
    vi.stubGlobal('EventSource', TestEventSource);
  });

  afterEach(async () => {
    tracker?.stop();
    tracker = undefined;
    vi.unstubAllGlobals();
    await collector?.close();
    collector = undefined;
  });

  it('opens only after 2xx reply', async () => {
    let isAccepting = false;
    const { collector } = await start(
      (batch) => (isAccepting ? acceptBatch(batch) : { status: 500, body: { code: 'internal_error', message: 'down' } }),
      (_, response) => response.writeHead(200, { 'content-type': 'text/event-stream' }),
    );

    await waitUntil(() => collector.batches().length >= 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(collector.streams()).toHaveLength(0);

    isAccepting = true;
    await waitUntil(() => collector.streams().length === 1, 20_000);

    const sessionId = tracker!.getState().sessionId!;
    expect(collector.streams()[0]?.url).toBe(`/v1/sessions/${sessionId}/stream`);
  });

  it('reopens after 404 and applies state', async () => {
    let streamCount = 0;
    const { tracker, collector } = await start(
      (batch) => acceptBatch(batch),
      (sessionId, response) => {
        streamCount += 1;
        if (streamCount === 1) {
          response.writeHead(404, { 'content-type': 'application/json' }).end('{"code":"not_found"}');
          return;
        }
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        writeState(response, sessionState(sessionId, { state: 'ended', endedAt: 2, endReason: 'terminated' }));
      },
    );

    await waitUntil(() => collector.streams().length === 1);
    const failedAt = performance.now();
    await waitUntil(() => tracker.getState().state === 'terminated', 5000);

    expect(collector.streams()).toHaveLength(2);
    expect(performance.now() - failedAt).toBeGreaterThanOrEqual(STREAM_RETRY_MS * 0.9);
    expect(tracker.getState().endReason).toBe('terminated');
  });

  it('reopens after dropped connection', async () => {
    let streamCount = 0;
    const { collector } = await start(
      (batch) => acceptBatch(batch),
      (sessionId, response) => {
        streamCount += 1;
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        writeState(response, sessionState(sessionId));
        if (streamCount === 1) response.end();
      },
    );

    await waitUntil(() => collector.streams().length === 2, 5000);
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(collector.streams()).toHaveLength(2);
    expect(TestEventSource.instances.filter((source) => source.readyState !== TestEventSource.CLOSED)).toHaveLength(1);
  });

  it('moves to next leader tab', async () => {
    const closed: boolean[] = [];
    const { tracker: first, collector } = await start(
      (batch) => acceptBatch(batch),
      (sessionId, response) => {
        const index = closed.push(false) - 1;
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        writeState(response, sessionState(sessionId));
        response.on('close', () => (closed[index] = true));
      },
    );
    // A second tracker in the same window stands for a second tab, which follows the first.
    const second = init({ endpoint: collector.endpoint, appId: 'shop', flushIntervalMs: 100 });

    try {
      await waitUntil(() => collector.streams().length === 1 && collector.batches().length >= 2);
      first.stop();
      await waitUntil(() => collector.streams().length === 2, 5000);

      expect(closed[0]).toBe(true);
      expect(closed[1]).toBe(false);
      expect(collector.streams()[1]?.url).toBe(`/v1/sessions/${second.getState().sessionId}/stream`);
    } finally {
      second.stop();
    }
  });

  it('closes when session ends', async () => {
    let isClosed = false;
    const { tracker, collector } = await start(
      (batch) => acceptBatch(batch),
      (sessionId, response) => {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        writeState(response, sessionState(sessionId));
        response.on('close', () => (isClosed = true));
      },
    );

    await waitUntil(() => collector.streams().length === 1);
    await tracker.end();
    await waitUntil(() => isClosed);

    expect(TestEventSource.instances.every((source) => source.readyState === TestEventSource.CLOSED)).toBe(true);
  });
});
