import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  batchReplySchema,
  errorBodySchema,
  MAX_BODY_BYTES,
  type SessionEventInput,
} from '../../../shared/src/index.js';
import {
  activity,
  batchOf,
  createTestCollector,
  postBatch,
  T0,
  TEST_ADMIN_TOKEN,
  type TestCollector,
} from '../test-harness.js';
import { StorageBacklogError, StorageLoadError } from '../storage/index.js';
import { isAcceptedContentType } from './events-route.js';

const MINUTE = 60_000;

describe('POST /v1/events', () => {
  let collector: TestCollector;

  beforeEach(async () => {
    collector = await createTestCollector();
    // Event timestamps later than the server clock are capped, so the clock runs ahead of them.
    collector.clock.set(T0 + MINUTE);
  });

  afterEach(async () => {
    await collector.cleanup();
  });

  async function errorOf(response: Response) {
    return errorBodySchema.parse(await response.json());
  }

  it('other methods get 405', async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
      const response = await collector.app.request('/v1/events', { method });

      expect(response.status, method).toBe(405);
      expect(response.headers.get('allow'), method).toBe('POST, OPTIONS');
      expect(errorBodySchema.parse(await response.json()).code, method).toBe('method_not_allowed');
    }
  });

  it('batch stored with reply', async () => {
    const events: SessionEventInput[] = [
      { id: 'event-0001', type: 'session_start', ts: T0, data: { tabs: 1 } },
      activity('event-0002', T0 + 1000, 4),
    ];

    const response = await postBatch(collector.app, batchOf(events, { userId: 'user-42' }));

    expect(response.status).toBe(200);
    const reply = batchReplySchema.parse(await response.json());
    expect(reply.accepted).toBe(2);
    expect(reply.duplicates).toBe(0);
    expect(reply.rejected).toEqual([]);
    expect(reply.session).toMatchObject({ id: 'session-0001', state: 'active', startedAt: T0 });
    expect(reply.session.policy.idleTimeoutMs).toBe(30 * MINUTE);
    const session = await collector.storage.getSession('session-0001');
    expect(session).toMatchObject({ userId: 'user-42', interactions: 4, eventCount: 2 });
    expect(await collector.storage.listEvents('session-0001')).toHaveLength(2);
  });

  it('failed load before a read gets 503', async () => {
    // Fault injection on the real storage: the load a read waits for fails.
    collector.storage.listSessions = () => Promise.reject(new StorageLoadError(new Error('disk full')));

    const response = await collector.app.request('/v1/admin/sessions', {
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });

    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('10');
    const body = await errorOf(response);
    expect(body.code).toBe('storage_unavailable');
    expect(body.message).toBe(
      'Loading acknowledged batches into DuckDB failed, so the result would miss some; retry after 10 s',
    );
  });

  it('storage backlog gets 503', async () => {
    // Fault injection on the real storage: its load into DuckDB keeps failing.
    collector.storage.transact = () => Promise.reject(new StorageBacklogError(20));

    const response = await postBatch(collector.app, batchOf([activity('event-0001', T0)]));

    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('10');
    const body = await errorOf(response);
    expect(body.code).toBe('storage_unavailable');
    expect(body.message).toBe(
      '20 ingest log files are waiting because loading them into DuckDB failed; ' +
        'writes resume once a load succeeds; retry after 10 s',
    );
  });

  it('resent batch counted as duplicates', async () => {
    const batch = batchOf([activity('event-0001', T0), activity('event-0002', T0 + 500, 2)]);
    await postBatch(collector.app, batch);

    const response = await postBatch(collector.app, batch);

    const reply = batchReplySchema.parse(await response.json());
    expect(reply.accepted).toBe(0);
    expect(reply.duplicates).toBe(2);
    expect(await collector.storage.listEvents('session-0001')).toHaveLength(2);
    expect((await collector.storage.getSession('session-0001'))?.interactions).toBe(3);
  });

  it('event ids repeated by another session stored', async () => {
    const events = [activity('event-0001', T0), activity('event-0002', T0 + 500, 2)];
    await postBatch(collector.app, batchOf(events));

    const response = await postBatch(
      collector.app,
      batchOf(events, { sessionId: 'session-0002', tabId: 'tab-00000002', clientId: 'client-0002' }),
    );

    const reply = batchReplySchema.parse(await response.json());
    expect(reply.accepted).toBe(2);
    expect(reply.duplicates).toBe(0);
    expect(await collector.storage.listEvents('session-0002')).toHaveLength(2);
    expect(await collector.storage.listEvents('session-0001')).toHaveLength(2);
  });

  it('text/plain beacon accepted', async () => {
    const response = await postBatch(collector.app, batchOf([activity('event-0001', T0)]), {
      'content-type': 'text/plain;charset=UTF-8',
    });

    expect(response.status).toBe(200);
  });

  it('content types checked', () => {
    expect(isAcceptedContentType('application/json')).toBe(true);
    expect(isAcceptedContentType('Application/JSON; charset=utf-8')).toBe(true);
    expect(isAcceptedContentType('text/plain;charset=UTF-8')).toBe(true);
    expect(isAcceptedContentType('text/plain; charset=latin1')).toBe(false);
    expect(isAcceptedContentType('application/x-www-form-urlencoded')).toBe(false);
    expect(isAcceptedContentType(undefined)).toBe(false);
  });

  it('other media type gets 415', async () => {
    const response = await postBatch(collector.app, batchOf([activity('event-0001', T0)]), {
      'content-type': 'application/xml',
    });

    expect(response.status).toBe(415);
    expect((await errorOf(response)).code).toBe('unsupported_media_type');
  });

  it('oversized body gets 413', async () => {
    const body = JSON.stringify({ padding: 'x'.repeat(MAX_BODY_BYTES) });

    const response = await postBatch(collector.app, body);

    expect(response.status).toBe(413);
    expect((await errorOf(response)).code).toBe('payload_too_large');
  });

  it('bad JSON gets 400', async () => {
    const response = await postBatch(collector.app, '{"v":1,');

    expect(response.status).toBe(400);
    expect((await errorOf(response)).code).toBe('invalid_json');
  });

  it('invalid UTF-8 gets 400', async () => {
    const response = await collector.app.request('/v1/events', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
    });

    expect(response.status).toBe(400);
    const body = await errorOf(response);
    expect(body.code).toBe('invalid_json');
    expect(body.message).toBe('Request body is not valid UTF-8');
  });

  it('invalid batch names issue path', async () => {
    const batch = batchOf([
      { id: 'event-0001', type: 'activity', ts: T0, data: { kind: 'pointer', count: 0 } },
      { id: 'event-0002', type: 'activity', ts: T0, data: { kind: 'pen', count: 1 } },
    ] as SessionEventInput[]);

    const response = await postBatch(collector.app, batch);

    expect(response.status).toBe(400);
    const body = await errorOf(response);
    expect(body.code).toBe('invalid_batch');
    expect(body.message).toMatch(/^Invalid batch at events\[0\]\.data\.count: /);
    expect(body.issues?.map((issue) => issue.path)).toEqual([
      ['events', 0, 'data', 'count'],
      ['events', 1, 'data', 'kind'],
    ]);
  });

  it('missing field gets invalid_batch', async () => {
    const { sessionId: _omitted, ...batch } = batchOf([activity('event-0001', T0)]);

    const body = await errorOf(await postBatch(collector.app, batch));

    expect(body.code).toBe('invalid_batch');
    expect(body.issues?.[0]?.path).toEqual(['sessionId']);
  });

  it('wrong version gets unsupported_version', async () => {
    const response = await postBatch(collector.app, { ...batchOf([activity('event-0001', T0)]), v: 2 });

    expect(response.status).toBe(400);
    const body = await errorOf(response);
    expect(body.code).toBe('unsupported_version');
    expect(body.message).toContain('must be 1, received 2');
  });

  it('ended session gets 410', async () => {
    const logout: SessionEventInput = {
      id: 'event-0002',
      type: 'session_end',
      ts: T0 + 1000,
      data: { reason: 'logout' },
    };
    await postBatch(collector.app, batchOf([activity('event-0001', T0), logout]));

    const response = await postBatch(collector.app, batchOf([activity('event-0003', T0 + 2000)]));

    expect(response.status).toBe(410);
    const body = await errorOf(response);
    expect(body.code).toBe('session_ended');
    expect(body.session).toMatchObject({ state: 'ended', endReason: 'logout', endedAt: T0 + 1000 });
    expect(await collector.storage.listEvents('session-0001')).toHaveLength(2);
  });

  it('idle by timestamps ends session', async () => {
    collector.clock.set(T0 + 40 * MINUTE);
    const batch = batchOf([activity('event-0001', T0), activity('event-0002', T0 + 31 * MINUTE)]);

    const reply = batchReplySchema.parse(await (await postBatch(collector.app, batch)).json());
    const next = await postBatch(collector.app, batchOf([activity('event-0003', T0 + 39 * MINUTE)]));

    expect(reply.accepted).toBe(1);
    expect(reply.rejected).toMatchObject([{ index: 1, id: 'event-0002', code: 'session_ended' }]);
    expect(reply.session).toMatchObject({ state: 'ended', endReason: 'idle', endedAt: T0 + 30 * MINUTE });
    expect(next.status).toBe(410);
  });

  it('absolute by timestamps ends session', async () => {
    await collector.cleanup();
    collector = await createTestCollector({
      env: { IDLE_TIMEOUT_MS: String(30 * MINUTE), ABSOLUTE_TIMEOUT_MS: String(60 * MINUTE) },
    });
    collector.clock.set(T0 + 50 * MINUTE);
    await postBatch(collector.app, batchOf([activity('event-0001', T0), activity('event-0002', T0 + 25 * MINUTE)]));
    await postBatch(collector.app, batchOf([activity('event-0003', T0 + 50 * MINUTE)]));
    collector.clock.set(T0 + 62 * MINUTE);

    const response = await postBatch(collector.app, batchOf([activity('event-0004', T0 + 61 * MINUTE)]));

    const reply = batchReplySchema.parse(await response.json());
    expect(reply.accepted).toBe(0);
    expect(reply.rejected.map((rejected) => rejected.code)).toEqual(['session_ended']);
    expect(reply.session).toMatchObject({ endReason: 'absolute', endedAt: T0 + 60 * MINUTE });
  });

  it('other client gets 403', async () => {
    await postBatch(collector.app, batchOf([activity('event-0001', T0)]));

    const response = await postBatch(
      collector.app,
      batchOf([activity('event-0002', T0 + 1000)], { clientId: 'client-other' }),
    );

    expect(response.status).toBe(403);
    expect((await errorOf(response)).code).toBe('forbidden');
  });

  it('disallowed origin gets 403', async () => {
    const response = await postBatch(collector.app, batchOf([activity('event-0001', T0)]), {
      'content-type': 'text/plain',
      origin: 'https://evil.example',
    });

    expect(response.status).toBe(403);
    expect((await errorOf(response)).code).toBe('origin_not_allowed');
    expect(await collector.storage.getSession('session-0001')).toBeUndefined();
  });

  it('own origin allowed without listing', async () => {
    const response = await postBatch(collector.app, batchOf([activity('event-0001', T0)]), {
      'content-type': 'text/plain',
      origin: 'http://localhost',
    });

    expect(response.status).toBe(200);
  });

  it('allowed origin gets CORS headers', async () => {
    const preflight = await collector.app.request('/v1/events', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://shop.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    const post = await postBatch(collector.app, batchOf([activity('event-0001', T0)]), {
      'content-type': 'application/json',
      origin: 'https://shop.example',
    });

    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(post.status).toBe(200);
    expect(post.headers.get('access-control-allow-origin')).toBe('https://shop.example');
  });

  it('request id echoed and logged', async () => {
    const response = await postBatch(collector.app, batchOf([activity('event-0001', T0)]), {
      'content-type': 'application/json',
      'x-request-id': 'req-abc-123',
    });

    expect(response.headers.get('x-request-id')).toBe('req-abc-123');
    const line = collector.logLines.map((text) => JSON.parse(text)).find((entry) => entry.msg === 'request');
    expect(line).toMatchObject({
      requestId: 'req-abc-123',
      method: 'POST',
      path: '/v1/events',
      status: 200,
      sessionId: 'session-0001',
    });
    expect(typeof line.durationMs).toBe('number');
  });
});
