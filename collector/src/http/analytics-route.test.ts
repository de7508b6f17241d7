import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorBodySchema } from '../../../shared/src/index.js';
import type { AnalyticsSummary } from '../storage/index.js';
import { sessionRowFixture } from '../storage/test-fixtures.js';
import { createTestCollector, T0, TEST_ADMIN_TOKEN, type TestCollector } from '../test-harness.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

/**
 * Three sessions in range and one a week earlier. By hand: durations 10, 30
 * and 20 min give a median of 20 min and an interpolated p90 of
 * 20 + 0.8 * (30 - 20) = 28 min.
 */
const rows = [
  sessionRowFixture({
    id: 'session-0001',
    userId: 'user-1',
    clientId: 'client-1',
    startedAt: T0,
    endedAt: T0 + 10 * MINUTE,
    endReason: 'logout',
    engagedMs: 5 * MINUTE,
    idleMs: 5 * MINUTE,
    interactions: 10,
    maxTabs: 1,
  }),
  sessionRowFixture({
    id: 'session-0002',
    userId: 'user-1',
    clientId: 'client-2',
    startedAt: T0 + 60 * MINUTE,
    endedAt: T0 + 90 * MINUTE,
    endReason: 'idle',
    engagedMs: MINUTE,
    idleMs: 29 * MINUTE,
    interactions: 4,
    maxTabs: 3,
  }),
  sessionRowFixture({
    id: 'session-0003',
    clientId: 'client-3',
    startedAt: T0 + 120 * MINUTE,
    lastActivityAt: T0 + 135 * MINUTE,
    lastSeenAt: T0 + 140 * MINUTE,
    engagedMs: 2 * MINUTE,
    idleMs: 0,
    interactions: 7,
    maxTabs: 2,
  }),
  sessionRowFixture({ id: 'session-0004', startedAt: T0 - 8 * DAY, interactions: 99 }),
];

describe('GET /v1/analytics/summary', () => {
  let collector: TestCollector;

  beforeEach(async () => {
    collector = await createTestCollector();
    await collector.storage.transact({
      sessionIds: [],
      eventIds: [],
      apply: (view) => rows.forEach((row) => view.putSession(row)),
    });
  });

  afterEach(async () => {
    await collector.cleanup();
  });

  function summary(query: string) {
    return collector.app.request(`/v1/analytics/summary${query}`, { headers: auth });
  }

  it('summary matches hand computation', async () => {
    const from = new Date(T0).toISOString();
    const response = await summary(`?from=${from}&to=${T0 + DAY}`);

    expect(response.status).toBe(200);
    const expected: AnalyticsSummary = {
      from: T0,
      to: T0 + DAY,
      sessions: 3,
      uniqueUsers: 2,
      duration: { medianMs: 20 * MINUTE, p90Ms: 28 * MINUTE },
      engagedMs: { total: 8 * MINUTE, perSession: (8 * MINUTE) / 3 },
      idleMs: { total: 34 * MINUTE, perSession: Math.round((34 * MINUTE) / 3) },
      interactionsPerSession: 7,
      tabsPerSession: 2,
      endReasons: {
        logout: 1,
        idle: 1,
        absolute: 0,
        terminated: 0,
        evicted: 0,
        disabled: 0,
        closed: 0,
      },
    };
    expect(await response.json()).toEqual(expected);
  });

  it('summary values are plain numbers', async () => {
    const body = JSON.stringify(await (await summary(`?from=${T0}&to=${T0 + DAY}`)).json());

    const numbers = body.match(/:-?[\d.]+/g) ?? [];
    expect(numbers.length).toBeGreaterThan(10);
    expect(body).not.toMatch(/:"\d+"/);
  });

  it('summary defaults to last week', async () => {
    collector.clock.set(T0 + DAY);

    const body = (await (await summary('')).json()) as AnalyticsSummary;

    expect(body.to).toBe(T0 + DAY);
    expect(body.from).toBe(T0 - 6 * DAY);
    expect(body.sessions).toBe(3);
  });

  it('date-only range accepted', async () => {
    const body = (await (await summary('?from=2023-11-14&to=2023-11-15')).json()) as AnalyticsSummary;

    expect(body.from).toBe(Date.parse('2023-11-14T00:00:00Z'));
    expect(body.sessions).toBe(2);
  });

  it('invalid range gets invalid_query', async () => {
    const cases: Array<[string, RegExp]> = [
      ['?from=yesterday', /^Query parameter from must be epoch milliseconds or an ISO 8601 date/],
      ['?to=2024-13-45', /^Query parameter to must be/],
      [`?from=${T0}&to=${T0}`, /^Query parameter from must be before to \(\d{4}-[\d-]+T[\d:.]+Z\)/],
      ['?form=2023-11-14', /^Query parameter form is not supported; use from and to$/],
    ];

    for (const [query, message] of cases) {
      const response = await summary(query);
      expect(response.status, query).toBe(400);
      const body = errorBodySchema.parse(await response.json());
      expect(body.code, query).toBe('invalid_query');
      expect(body.message, query).toMatch(message);
    }
  });
});
