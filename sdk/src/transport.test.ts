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

  it('waits Retry-After on 429', async () => {
    const { collector, arrivals } = await start([
      { status: 429, body: { code: 'rate_limited', message: 'slow down' }, headers: { 'retry-after': '1' } },
    ]);

    const result = await postBody(collector.endpoint, BODY);

    expect(result.ok).toBe(true);
    expect(arrivals).toHaveLength(2);
    expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(950);
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
