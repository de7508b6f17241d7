import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { batchReplySchema, type SessionEventInput } from '../../../shared/src/index.js';
import {
  activity,
  batchOf,
  createTestCollector,
  postBatch,
  T0,
  type TestCollector,
} from '../test-harness.js';
import { MAX_EVENT_AGE_MS, MAX_EVENT_LEAD_MS } from './event-checks.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Server time of every request in this file. */
const NOW = T0 + MINUTE;

describe('POST /v1/events event checks', () => {
  let collector: TestCollector;

  beforeEach(async () => {
    collector = await createTestCollector();
    collector.clock.set(NOW);
  });

  afterEach(async () => {
    await collector.cleanup();
  });

  async function send(
    events: unknown[],
    requestId: string,
    overrides: Record<string, unknown> = {},
  ) {
    const body = { ...batchOf([], overrides), events };
    const response = await postBatch(collector.app, body, {
      'content-type': 'application/json',
      'x-request-id': requestId,
    });
    expect(response.status).toBe(200);
    return batchReplySchema.parse(await response.json());
  }

  async function logRowsOf(requestId: string) {
    const rows = await collector.storage.admin.listIngestErrors({ limit: 100 });
    return rows.filter((row) => row.requestId === requestId).reverse();
  }

  async function storedIds(sessionId = 'session-0001') {
    return (await collector.storage.listEvents(sessionId)).map((event) => event.id);
  }

  it('mixed batch stores valid events', async () => {
    const events = [
      activity('event-0001', T0),
      { id: 'event-0002', type: 'purchase', ts: T0 },
      activity('event-0003', T0 + 1000),
      activity('event-0004', NOW - 2 * DAY),
      activity('bad id', T0),
    ];

    const reply = await send(events, 'mixed-1');

    expect(reply.accepted).toBe(2);
    expect(reply.duplicates).toBe(0);
    expect(reply.rejected.map(({ index, id, code }) => ({ index, id, code }))).toEqual([
      { index: 1, id: 'event-0002', code: 'invalid_event' },
      { index: 3, id: 'event-0004', code: 'timestamp_out_of_range' },
      { index: 4, id: undefined, code: 'invalid_event' },
    ]);
    expect(reply.rejected[0]?.message).toMatch(/^events\[1\]\.type: /);
    expect(reply.rejected[1]?.message).toMatch(/^events\[3\]\.ts: .* is more than 24 h before/);
    expect(reply.rejected[2]?.message).toMatch(/^events\[4\]\.id: must be 8 to 64 characters/);
    expect(await storedIds()).toEqual(['event-0001', 'event-0003']);
  });

  it('mixed batch logged per code', async () => {
    const events = [
      activity('event-0001', T0),
      { id: 'event-0002', type: 'purchase', ts: T0 },
      activity('event-0003', NOW - 2 * DAY),
    ];

    await send(events, 'mixed-2');

    const rows = await logRowsOf('mixed-2');
    expect(rows.map(({ status, code }) => ({ status, code }))).toEqual([
      { status: 200, code: 'invalid_event' },
      { status: 200, code: 'timestamp_out_of_range' },
    ]);
    expect(rows[0]?.message).toMatch(/^1 of 3 events rejected: events\[1\]\.type: /);
    expect(rows[1]?.message).toMatch(/^1 of 3 events rejected: events\[2\]\.ts: /);
    expect(rows[0]).toMatchObject({ appId: 'shop-web', sessionId: 'session-0001' });
  });

  it('service rejections keep request indexes', async () => {
    const logout: SessionEventInput = {
      id: 'event-0003',
      type: 'session_end',
      ts: T0 + 1000,
      data: { reason: 'logout' },
    };
    const events = [
      { id: 'event-0001', type: 'activity', ts: T0, data: { kind: 'pen', count: 1 } },
      activity('event-0002', T0),
      logout,
      activity('event-0004', T0 + 2000),
    ];

    const reply = await send(events, 'mixed-3');

    expect(reply.accepted).toBe(2);
    expect(reply.rejected.map(({ index, code }) => ({ index, code }))).toEqual([
      { index: 0, code: 'invalid_event' },
      { index: 3, code: 'session_ended' },
    ]);
    expect(reply.session.endReason).toBe('logout');
  });

  it('replayed batch stores nothing twice', async () => {
    const events = [activity('event-0001', T0, 2), activity('event-0002', T0 + 1000, 3)];
    await send(events, 'replay-1');

    const replay = await send(events, 'replay-2');

    expect(replay.accepted).toBe(0);
    expect(replay.duplicates).toBe(2);
    expect(replay.rejected).toEqual([]);
    expect(await storedIds()).toEqual(['event-0001', 'event-0002']);
    expect((await collector.storage.getSession('session-0001'))?.interactions).toBe(5);
    expect(await logRowsOf('replay-2')).toEqual([]);
  });

  it('replayed mixed batch rejects again', async () => {
    const events = [activity('event-0001', T0), { id: 'event-0002', type: 'purchase', ts: T0 }];
    await send(events, 'replay-3');

    const replay = await send(events, 'replay-4');

    expect(replay.accepted).toBe(0);
    expect(replay.duplicates).toBe(1);
    expect(replay.rejected.map((event) => event.index)).toEqual([1]);
    expect(await storedIds()).toEqual(['event-0001']);
  });

  it('future timestamp clamped and flagged', async () => {
    const reply = await send([activity('event-0001', NOW + 2 * HOUR)], 'future-1');

    expect(reply.accepted).toBe(1);
    const [stored] = await collector.storage.listEvents('session-0001');
    expect(stored).toMatchObject({ clientTs: NOW + 2 * HOUR, ts: NOW, receivedAt: NOW });
    const rows = await logRowsOf('future-1');
    expect(rows.map(({ status, code }) => ({ status, code }))).toEqual([
      { status: 200, code: 'timestamp_clamped' },
    ]);
    expect(rows[0]?.message).toContain('events[0] (event-0001) at 2023-11-15T00:14:20.000Z');
  });

  it('clamp beyond Date range logged', async () => {
    // sentAt 0 shifts the timestamp forward by NOW, past the largest Date.
    const events = [activity('event-0001', 8.64e15)];

    const reply = await send(events, 'future-3', { sentAt: 0 });

    expect(reply.accepted).toBe(1);
    const [stored] = await collector.storage.listEvents('session-0001');
    expect(stored).toMatchObject({ clientTs: 8.64e15, ts: NOW, receivedAt: NOW });
    const rows = await logRowsOf('future-3');
    expect(rows.map(({ status, code }) => ({ status, code }))).toEqual([
      { status: 200, code: 'timestamp_clamped' },
    ]);
    expect(rows[0]?.message).toContain(`(event-0001) at ${8.64e15 + NOW} ms since the epoch`);
  });

  it('small lead capped unflagged', async () => {
    await send([activity('event-0001', NOW + MAX_EVENT_LEAD_MS)], 'future-2');

    const [stored] = await collector.storage.listEvents('session-0001');
    expect(stored).toMatchObject({ clientTs: NOW + MAX_EVENT_LEAD_MS, ts: NOW, receivedAt: NOW });
    expect(await logRowsOf('future-2')).toEqual([]);
  });

  it('window edges at 24 hours', async () => {
    const events = [
      activity('event-0001', NOW - MAX_EVENT_AGE_MS),
      activity('event-0002', NOW - MAX_EVENT_AGE_MS - 1),
    ];

    const reply = await send(events, 'edge-1');

    expect(reply.accepted).toBe(1);
    expect(reply.rejected.map(({ index, code }) => ({ index, code }))).toEqual([
      { index: 1, code: 'timestamp_out_of_range' },
    ]);
  });

  it('ISO offsets stored as UTC', async () => {
    const events = [
      { id: 'event-0001', type: 'active', ts: '2023-11-14T23:13:20+01:00' },
      { id: 'event-0002', type: 'active', ts: '2023-11-14T17:13:21.5-05:00' },
      { id: 'event-0003', type: 'active', ts: '2023-11-14T22:13:22Z' },
    ];

    await send(events, 'iso-1');

    const stored = await collector.storage.listEvents('session-0001');
    expect(stored.map(({ id, clientTs, receivedAt }) => ({ id, clientTs, receivedAt }))).toEqual([
      { id: 'event-0001', clientTs: T0, receivedAt: NOW },
      { id: 'event-0002', clientTs: T0 + 1500, receivedAt: NOW },
      { id: 'event-0003', clientTs: T0 + 2000, receivedAt: NOW },
    ]);
  });

  it('slow client clock corrected by sentAt', async () => {
    const skew = 3 * DAY;

    const reply = await send([activity('event-0001', T0 - skew)], 'skew-1', { sentAt: NOW - skew });

    expect(reply.accepted).toBe(1);
    const [stored] = await collector.storage.listEvents('session-0001');
    expect(stored).toMatchObject({ clientTs: T0 - skew, ts: T0, receivedAt: NOW });
  });

  it('old event after sentAt correction names sentAt', async () => {
    const events = [activity('event-0001', NOW + 2 * DAY), activity('event-0002', NOW)];

    const reply = await send(events, 'skew-2', { sentAt: NOW + 2 * DAY });

    expect(reply.accepted).toBe(1);
    expect(reply.rejected).toEqual([
      {
        index: 1,
        id: 'event-0002',
        code: 'timestamp_out_of_range',
        message:
          `events[1].ts: ${new Date(NOW - 2 * DAY).toISOString()}, after correcting the client ` +
          `clock by -172800000 ms (sentAt ${new Date(NOW + 2 * DAY).toISOString()}), is more ` +
          `than 24 h before the server time ${new Date(NOW).toISOString()}, so the event is not stored`,
      },
    ]);
  });

  it('old event before Date range rejected', async () => {
    // The largest numeric sentAt moves an ISO timestamp of 1900 below the smallest Date.
    const events = [
      { ...activity('event-0001', 0), ts: '1900-01-01T00:00:00Z' },
      activity('event-0002', 8.64e15),
    ];
    const shiftedTs = Date.parse('1900-01-01T00:00:00Z') + NOW - 8.64e15;

    const reply = await send(events, 'skew-3', { sentAt: 8.64e15 });

    expect(reply.accepted).toBe(1);
    expect(reply.rejected).toHaveLength(1);
    expect(reply.rejected[0]).toMatchObject({ index: 0, code: 'timestamp_out_of_range' });
    expect(reply.rejected[0]?.message).toContain(`events[0].ts: ${shiftedTs} ms since the epoch,`);
    expect(reply.rejected[0]?.message).toContain('(sentAt +275760-09-13T00:00:00.000Z)');
  });

  it('unknown session id starts session', async () => {
    const reply = await send([activity('event-0001', T0)], 'new-1', {
      sessionId: 'never-seen-0001',
    });

    expect(reply.session).toMatchObject({ id: 'never-seen-0001', state: 'active' });
    expect(await storedIds('never-seen-0001')).toEqual(['event-0001']);
  });
});
