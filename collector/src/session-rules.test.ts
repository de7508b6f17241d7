import { describe, expect, it } from 'vitest';
import { type Batch, batchSchema, type SessionEventInput } from '../../shared/src/index.js';
import {
  applyBatch,
  createSessionRow,
  ENGAGED_GAP_MAX_MS,
  expireSession,
} from './session-rules.js';
import { sessionRowFixture } from './storage/test-fixtures.js';
import { activity, batchOf, T0 } from './test-harness.js';

const MINUTE = 60_000;
const limits = { idleTimeoutMs: 30 * MINUTE, absoluteTimeoutMs: 12 * 60 * MINUTE };

function parse(events: SessionEventInput[], sentAt?: number): Batch {
  return batchSchema.parse(batchOf(events, sentAt === undefined ? {} : { sentAt }));
}

/** Creates the session from the batch and applies it, as the collector does for a new session. */
function applyNew(batch: Batch, receivedAt: number, sessionLimits = limits) {
  const row = createSessionRow(batch, receivedAt, sessionLimits);
  const outcome = applyBatch(row, batch, receivedAt, () => false);
  return { row, outcome };
}

describe('session rules', () => {
  it('activity gaps split engaged idle', () => {
    const batch = parse([
      activity('event-0001', T0),
      activity('event-0002', T0 + 10_000, 2),
      activity('event-0003', T0 + 40_000),
      activity('event-0004', T0 + 40_000 + 5 * MINUTE),
    ]);

    const { row, outcome } = applyNew(batch, T0 + 6 * MINUTE);

    expect(outcome.events).toHaveLength(4);
    expect(row.interactions).toBe(5);
    expect(row.engagedMs).toBe(40_000);
    expect(row.idleMs).toBe(5 * MINUTE);
    expect(row.lastActivityAt).toBe(T0 + 40_000 + 5 * MINUTE);
    expect(ENGAGED_GAP_MAX_MS).toBe(MINUTE);
  });

  it('event past idle limit rejected', () => {
    const batch = parse([
      activity('event-0001', T0),
      activity('event-0002', T0 + 31 * MINUTE),
      activity('event-0003', T0 + 32 * MINUTE),
    ]);

    const { row, outcome } = applyNew(batch, T0 + 33 * MINUTE);

    expect(row.endedAt).toBe(T0 + 30 * MINUTE);
    expect(row.endReason).toBe('idle');
    expect(row.idleMs).toBe(30 * MINUTE);
    expect(outcome.hasEnded).toBe(true);
    expect(outcome.events.map((event) => event.id)).toEqual(['event-0001']);
    expect(outcome.rejected.map((rejected) => [rejected.index, rejected.code])).toEqual([
      [1, 'session_ended'],
      [2, 'session_ended'],
    ]);
    expect(outcome.rejected[0]?.message).toContain('ended (idle) at 2023-11-14T22:43:20.000Z');
  });

  it('event past absolute limit rejected', () => {
    const batch = parse([
      activity('event-0001', T0),
      activity('event-0002', T0 + 20 * MINUTE),
      activity('event-0003', T0 + 40 * MINUTE),
      activity('event-0004', T0 + 61 * MINUTE),
    ]);

    const { row, outcome } = applyNew(batch, T0 + 62 * MINUTE, {
      idleTimeoutMs: 30 * MINUTE,
      absoluteTimeoutMs: 60 * MINUTE,
    });

    expect(row.endReason).toBe('absolute');
    expect(row.endedAt).toBe(T0 + 60 * MINUTE);
    expect(outcome.rejected.map((rejected) => rejected.index)).toEqual([3]);
    expect(row.idleMs).toBe(60 * MINUTE);
    expect(row.engagedMs).toBe(0);
  });

  it('idle event ends at its timestamp', () => {
    const batch = parse([
      activity('event-0001', T0),
      { id: 'event-0002', type: 'idle', ts: T0 + 20 * MINUTE },
    ]);

    const { row, outcome } = applyNew(batch, T0 + 20 * MINUTE);

    expect(row.endReason).toBe('idle');
    expect(row.endedAt).toBe(T0 + 20 * MINUTE);
    expect(row.idleMs).toBe(20 * MINUTE);
    expect(outcome.events).toHaveLength(2);
  });

  it('late idle event still stored', () => {
    const batch = parse([
      activity('event-0001', T0),
      { id: 'event-0002', type: 'idle', ts: T0 + 30 * MINUTE + 200 },
    ]);

    const { row, outcome } = applyNew(batch, T0 + 31 * MINUTE);

    expect(row.endedAt).toBe(T0 + 30 * MINUTE);
    expect(outcome.events).toHaveLength(2);
    expect(outcome.rejected).toEqual([]);
  });

  it('logout counts gap as engaged', () => {
    const batch = parse([
      activity('event-0001', T0),
      { id: 'event-0002', type: 'session_end', ts: T0 + 20_000, data: { reason: 'logout' } },
      activity('event-0003', T0 + 30_000),
    ]);

    const { row, outcome } = applyNew(batch, T0 + MINUTE);

    expect(row.endReason).toBe('logout');
    expect(row.endedAt).toBe(T0 + 20_000);
    expect(row.engagedMs).toBe(20_000);
    expect(row.idleMs).toBe(0);
    expect(outcome.rejected.map((rejected) => rejected.id)).toEqual(['event-0003']);
  });

  it('duplicates counted not applied', () => {
    const batch = parse([
      activity('event-0001', T0, 3),
      activity('event-0001', T0, 3),
      activity('event-0002', T0 + 1000, 4),
    ]);
    const row = createSessionRow(batch, T0 + 2000, limits);

    const outcome = applyBatch(row, batch, T0 + 2000, (id) => id === 'event-0002');

    expect(outcome.duplicates).toBe(2);
    expect(outcome.events.map((event) => event.id)).toEqual(['event-0001']);
    expect(row.interactions).toBe(3);
    expect(row.eventCount).toBe(1);
  });

  it('heartbeat and tab events track tabs', () => {
    const batch = parse([
      { id: 'event-0001', type: 'session_start', ts: T0, data: { tabs: 1 } },
      { id: 'event-0002', type: 'heartbeat', ts: T0 + 20_000, data: { tabs: 3, lastActivityAt: T0 + 10_000 } },
      { id: 'event-0003', type: 'tab_closed', ts: T0 + 25_000, data: { tabs: 1 } },
      { id: 'event-0004', type: 'page_view', ts: T0 + 26_000, data: { url: 'https://shop.example/a' } },
    ]);

    const { row } = applyNew(batch, T0 + 30_000);

    expect(row.tabsNow).toBe(1);
    expect(row.maxTabs).toBe(3);
    expect(row.pageViews).toBe(1);
    expect(row.lastActivityAt).toBe(T0 + 26_000);
    expect(row.engagedMs).toBe(26_000);
  });

  it('clock skew corrected by sentAt', () => {
    const hourBehind = -60 * MINUTE;
    const batch = parse([activity('event-0001', T0 + hourBehind - 10_000)], T0 + hourBehind);

    const { row, outcome } = applyNew(batch, T0);

    expect(row.startedAt).toBe(T0 - 10_000);
    expect(outcome.events[0]?.ts).toBe(T0 - 10_000);
    expect(outcome.events[0]?.clientTs).toBe(T0 + hourBehind - 10_000);
    expect(outcome.events[0]?.receivedAt).toBe(T0);
  });

  it('future timestamps capped at receipt', () => {
    const batch = parse([activity('event-0001', T0 + 10 * MINUTE)]);

    const { row, outcome } = applyNew(batch, T0);

    expect(row.startedAt).toBe(T0);
    expect(outcome.events[0]?.ts).toBe(T0);
  });

  it('expireSession applies each rule', () => {
    const idle = sessionRowFixture({ startedAt: T0, lastActivityAt: T0 + MINUTE });
    const absolute = sessionRowFixture({ startedAt: T0, absoluteTimeoutMs: 40 * MINUTE, lastActivityAt: T0 + 30 * MINUTE });
    const closed = sessionRowFixture({ startedAt: T0, tabsNow: 0, lastSeenAt: T0 + 2 * MINUTE, lastActivityAt: T0 + MINUTE });
    const live = sessionRowFixture({ startedAt: T0, lastActivityAt: T0 + 10 * MINUTE, lastSeenAt: T0 + 20 * MINUTE });

    expect(expireSession(idle, T0 + 32 * MINUTE, MINUTE)).toBe(true);
    expect(expireSession(absolute, T0 + 41 * MINUTE, MINUTE)).toBe(true);
    expect(expireSession(closed, T0 + 3 * MINUTE + 1, MINUTE)).toBe(true);
    expect(expireSession(live, T0 + 21 * MINUTE, MINUTE)).toBe(false);
    expect([idle.endReason, idle.endedAt]).toEqual(['idle', T0 + 31 * MINUTE]);
    expect([absolute.endReason, absolute.endedAt]).toEqual(['absolute', T0 + 40 * MINUTE]);
    expect([closed.endReason, closed.endedAt]).toEqual(['closed', T0 + 2 * MINUTE]);
    expect(closed.engagedMs).toBe(MINUTE);
    expect(live.endedAt).toBeNull();
  });
});
