import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_BEACON_BYTES } from '../../shared/src/constants.js';
import { acceptBatch, startTestCollector, type TestReply } from './test-collector.js';
import { postBody } from './transport.js';

type Collector = Awaited<ReturnType<typeof startTestCollector>>;

const BODY = JSON.stringify({ v: 1, sessionId: 'session_0001', events: [] });

describe('postBody', () => {
  let collector: Collector | undefined;
  const start = async (replies: TestReply[]) => {
    const arrivals: number[] = [];
    collector = await startTestCollector((batch) => {
      arrivals.push(performance.now());
      return replies[arrivals.length - 1] ?? acceptBatch(batch);
    });

    return { collector, arrivals };
  };

  afterEach(async () => {
    vi.unstubAllGlobals();
    await collector?.close();
    collector = undefined;
  });

  it('returns Retry-After of 429', async () => {
    const { collector, arrivals } = await start([
      { status: 429, body: { code: 'rate_limited', message: 'slow down' }, headers: { 'retry-after': '120' } },
    ]);

    const result = await postBody(collector.endpoint, BODY);

    // Delivery waits out the whole Retry-After, so the send itself does not retry.
    expect(arrivals).toHaveLength(1);
    expect(result).toMatchObject({ ok: false, isRetryable: true, status: 429, code: 'rate_limited', retryAfterMs: 120_000 });
  });

  it('reads Retry-After as HTTP date', async () => {
    const at = new Date(Date.now() + 90_000).toUTCString();
    const { collector } = await start([{ status: 503, body: { code: 'internal_error', message: 'down' }, headers: { 'retry-after': at } }]);

    const result = await postBody(collector.endpoint, BODY);

    expect(!result.ok && result.retryAfterMs).toBeGreaterThan(85_000);
    expect(!result.ok && result.retryAfterMs).toBeLessThanOrEqual(90_000);
  });

  it('retries 500 with jittered backoff', async () => {
    const failure = { status: 500, body: { code: 'internal_error', message: 'broken' } };
    const { collector, arrivals } = await start([failure, failure]);
    const random = vi.spyOn(Math, 'random').mockReturnValue(1);

    try {
      const result = await postBody(collector.endpoint, BODY);

      expect(result.ok).toBe(true);
      // 300 ms, then 600 ms, each scaled by 0.5 + Math.random(), here 1.5.
      expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(440);
      expect(arrivals[2]! - arrivals[1]!).toBeGreaterThanOrEqual(890);
    } finally {
      random.mockRestore();
    }
  });

  it('stops after retry limit', async () => {
    const failure = { status: 500, body: { code: 'internal_error', message: 'broken' } };
    const { collector, arrivals } = await start([failure, failure, failure, failure, failure]);

    const result = await postBody(collector.endpoint, BODY);

    expect(arrivals).toHaveLength(4);
    expect(result).toMatchObject({ ok: false, isRetryable: true, status: 500, code: 'internal_error' });
  });

  it('does not retry 404', async () => {
    const { collector, arrivals } = await start([
      { status: 404, body: { code: 'not_found', message: 'no such app' }, headers: { 'retry-after': '0' } },
    ]);

    const result = await postBody(collector.endpoint, BODY);

    expect(arrivals).toHaveLength(1);
    expect(result).toEqual({
      ok: false,
      isRetryable: false,
      status: 404,
      code: 'not_found',
      message: 'no such app',
      session: undefined,
      retryAfterMs: 0,
    });
  });

  it('reports unreachable collector as retryable', async () => {
    const { collector } = await start([]);
    const { endpoint } = collector;
    await collector.close();

    const result = await postBody(endpoint, BODY);

    expect(result).toMatchObject({ ok: false, isRetryable: true });
    expect(!result.ok && result.message).toMatch(/^request failed: /);
  });

  it('uses keepalive only when closing', async () => {
    const inits: (RequestInit | undefined)[] = [];
    // happy-dom's Request drops `keepalive`, so the test reads the init ky passes to it.
    vi.stubGlobal(
      'Request',
      class extends Request {
        constructor(input: RequestInfo | URL, init?: RequestInit) {
          super(input, init);
          inits.push(init);
        }
      },
    );
    const { collector } = await start([]);
    const oversized = JSON.stringify({ ...JSON.parse(BODY), note: 'x'.repeat(MAX_BEACON_BYTES) });

    await postBody(collector.endpoint, BODY);
    await postBody(collector.endpoint, BODY, true);
    await postBody(collector.endpoint, oversized, true);

    expect(inits.map((init) => init?.keepalive)).toEqual([false, true, false]);
  });
});
