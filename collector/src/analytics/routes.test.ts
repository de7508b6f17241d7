import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorBodySchema } from '../../../shared/src/index.js';
import { sessionRowFixture } from '../storage/test-fixtures.js';
import {
  activity,
  batchOf,
  createTestCollector,
  postBatch,
  T0,
  TEST_ADMIN_TOKEN,
  TEST_ANALYST_TOKEN,
  type TestCollector,
} from '../test-harness.js';
import { REPORT_NAMES } from './reports.js';

const MINUTE = 60_000;
const analyst = { authorization: `Bearer ${TEST_ANALYST_TOKEN}` };

describe('analytics routes', () => {
  let collector: TestCollector;

  beforeEach(async () => {
    collector = await createTestCollector();
    collector.clock.set(T0 + 2 * 60 * MINUTE);
  });

  afterEach(async () => {
    await collector.cleanup();
  });

  function get(path: string, headers: Record<string, string> = analyst) {
    return collector.app.request(path, { headers });
  }

  it('reports need a token', async () => {
    for (const name of REPORT_NAMES) {
      expect((await get(`/v1/analytics/${name}`, {})).status, name).toBe(401);
      expect((await get(`/v1/analytics/${name}`)).status, name).toBe(200);
    }
    expect((await get('/v1/analytics', {})).status).toBe(401);
    const index = (await (await get('/v1/analytics')).json()) as { reports: { name: string }[] };
    expect(index.reports.map((report) => report.name)).toEqual([...REPORT_NAMES]);
  });

  it('live stream is admin only', async () => {
    expect((await get('/v1/admin/live', {})).status).toBe(401);
    expect((await get('/v1/admin/live')).status).toBe(403);
  });

  it('invalid parameters name themselves', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['from=yesterday', 'from', /^Query parameter from must be epoch milliseconds/],
      ['to=2024-13-45', 'to', /^Query parameter to must be/],
      [`from=${T0}&to=${T0}`, 'from', /must be before to/],
      ['interval=week', 'interval', /must be one of hour, day/],
      ['interval=hour&from=2023-01-01&to=2023-06-01', 'interval', /at most 1000 buckets/],
      ['timeZone=Mars/Olympus', 'timeZone', /must be an IANA time zone/],
      [`timeZone=${'x'.repeat(65)}`, 'timeZone', /^Query parameter timeZone must be at most 64/],
      ['appId=bad app', 'appId', /must be 1 to 64 characters/],
      ['format=xml', 'format', /must be json or csv/],
      ['form=2024-01-01', 'form', /is not supported; use from, to/],
    ];

    for (const [query, parameter, message] of cases) {
      const response = await get(`/v1/analytics/sessions?${query}`);
      expect(response.status, query).toBe(400);
      const body = errorBodySchema.parse(await response.json());
      expect(body.code, query).toBe('invalid_query');
      expect(body.issues?.[0]?.path, query).toEqual([parameter]);
      expect(body.message, query).toMatch(message);
    }
  });

  it('csv chosen by format or accept', async () => {
    await postBatch(collector.app, batchOf([activity('event-0001', T0)]));
    const range = `from=2023-11-14&to=2023-11-15`;

    const byFormat = await get(`/v1/analytics/sessions?${range}&format=csv`);
    const byAccept = await get(`/v1/analytics/sessions?${range}`, {
      ...analyst,
      accept: 'text/csv',
    });
    const json = await get(`/v1/analytics/sessions?${range}`, {
      ...analyst,
      accept: 'application/json, text/csv',
    });

    for (const response of [byFormat, byAccept]) {
      expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(response.headers.get('content-disposition')).toBe(
        'attachment; filename="sessions-2023-11-14-2023-11-14.csv"',
      );
      expect(await response.text()).toBe(
        'bucket_start,bucket,sessions,uniqueUsers,newUsers,returningUsers\r\n' +
          '2023-11-14T00:00:00.000Z,2023-11-14,1,1,1,0\r\n' +
          ',total,1,1,1,0\r\n',
      );
    }
    expect(json.headers.get('content-type')).toContain('application/json');
  });

  it('numbers are json numbers', async () => {
    await postBatch(
      collector.app,
      batchOf([activity('event-0001', T0), activity('event-0002', T0 + 5000)]),
    );

    for (const name of REPORT_NAMES) {
      const text = await (
        await get(`/v1/analytics/${name}?from=${T0 - MINUTE}&to=${T0 + MINUTE}`)
      ).text();
      expect(text, name).not.toMatch(/"\d+n?"/);
      expect(text, name).toMatch(/:\d/);
    }
  });

  it('concurrency counts overlapping sessions', async () => {
    // From 22:00 UTC: A 0-10 min, B 5-20 min, C 5 min until now (90 min), D 20-25 min,
    // E from 30 min before the range until 2 min. Live at whole minutes: 2 at 0-1 (A, E),
    // 3 at 5-9 (A, B, C), 2 at 10-19 and at 20-24 (B ends as D starts), 1 until C ends.
    const start = Date.UTC(2023, 10, 14, 22);
    const rows = [
      sessionRowFixture({
        id: 'session-a',
        startedAt: start,
        endedAt: start + 10 * MINUTE,
        endReason: 'idle',
      }),
      sessionRowFixture({
        id: 'session-b',
        startedAt: start + 5 * MINUTE,
        endedAt: start + 20 * MINUTE,
        endReason: 'idle',
      }),
      sessionRowFixture({ id: 'session-c', startedAt: start + 5 * MINUTE }),
      sessionRowFixture({
        id: 'session-d',
        startedAt: start + 20 * MINUTE,
        endedAt: start + 25 * MINUTE,
        endReason: 'logout',
      }),
      sessionRowFixture({
        id: 'session-e',
        startedAt: start - 30 * MINUTE,
        endedAt: start + 2 * MINUTE,
        endReason: 'idle',
      }),
    ];
    await collector.storage.transact({
      sessionIds: [],
      eventIds: [],
      apply: (view) => rows.forEach((row) => view.putSession(row)),
    });
    collector.clock.set(start + 90 * MINUTE);

    const response = await get(
      `/v1/analytics/concurrency?from=${start}&to=${start + 3 * 60 * MINUTE}&interval=hour`,
    );
    const body = (await response.json()) as any;

    expect(body.peak).toEqual({ sessions: 3, at: start + 5 * MINUTE });
    expect(body.buckets.map((bucket: any) => [bucket.peak, bucket.liveAtEnd])).toEqual([
      [3, 1],
      [1, 0],
      [0, 0],
    ]);
  });

  it('concurrency counts sessions of the current minute', async () => {
    // Both sessions started after the last whole minute, so no minute sample has them yet.
    const start = Date.UTC(2023, 10, 14, 22);
    const rows = ['session-a', 'session-b'].map((id) =>
      sessionRowFixture({ id, startedAt: start + 30_000 }),
    );
    await collector.storage.transact({
      sessionIds: [],
      eventIds: [],
      apply: (view) => rows.forEach((row) => view.putSession(row)),
    });
    collector.clock.set(start + 45_000);

    const response = await get(
      `/v1/analytics/concurrency?from=${start - 60 * MINUTE}&to=${start + 60 * MINUTE}&interval=hour`,
    );
    const body = (await response.json()) as any;

    expect(body.peak).toEqual({ sessions: 2, at: start + 45_000 });
    expect(body.buckets.map((bucket: any) => bucket.peak)).toEqual([0, 2]);
  });

  it('live stream reports starts and ends', async () => {
    collector.clock.set(T0 + 1000);
    const server = await new Promise<Server>((resolve) => {
      const started = serve({ fetch: collector.app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
        resolve(started as Server),
      ) as Server;
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/admin/live`;
    const controller = new AbortController();
    try {
      const response = await fetch(url, {
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
        signal: controller.signal,
      });
      // fetch requests gzip, yet a compressed stream would hold events back in its buffer.
      expect(response.headers.get('content-encoding')).toBeNull();
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      const readUntil = async (pattern: RegExp) => {
        while (!pattern.test(text)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`stream ended before ${pattern}: ${text}`);
          text += value;
        }
      };

      await readUntil(/event: live\ndata: \{"live":0,/);
      await postBatch(
        collector.app,
        batchOf([activity('event-0001', T0)], { userId: '<b>user</b>' }),
      );
      await readUntil(/event: start\n/);
      await collector.app.request('/v1/admin/sessions/session-0001/terminate', {
        method: 'POST',
        headers: {
          authorization: `Bearer ${TEST_ADMIN_TOKEN}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ reason: 'test' }),
      });
      await readUntil(/event: end\n/);

      expect(text).toContain('"type":"start","live":1,"session":{"id":"session-0001"');
      expect(text).toContain('"userId":"<b>user</b>"');
      expect(text).toContain('"type":"end","live":0,"id":"session-0001","endReason":"terminated"');
    } finally {
      controller.abort();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
