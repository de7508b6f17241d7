import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionEventInput } from '../../../shared/src/index.js';
import {
  batchOf,
  createTestCollector,
  postBatch,
  T0,
  TEST_ANALYST_TOKEN,
  type TestCollector,
} from '../test-harness.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
/** The default idle timeout of test collectors. */
const IDLE_TIMEOUT = 30 * MINUTE;

type Body = Record<string, any>;

/** Builds an event; ids get an `event-` prefix to reach the 8-character minimum. */
function event(id: string, type: string, ts: number, data?: unknown): SessionEventInput {
  const body = { id: `event-${id}`, type, ts, ...(data === undefined ? {} : { data }) };
  return body as SessionEventInput;
}

function pointer(id: string, ts: number, count = 1): SessionEventInput {
  return event(id, 'activity', ts, { kind: 'pointer', count });
}

function key(id: string, ts: number, count = 1): SessionEventInput {
  return event(id, 'activity', ts, { kind: 'key', count });
}

/**
 * Four sessions sent through POST /v1/events, with every figure worked out by
 * hand (times relative to each session's start):
 *
 * - S1, user-a, starts at T0. Two tabs overlap. Tab A has activity at 0 (page
 *   view), 10, 20 and 30 s. Tab B opens at 5 s with a page view and has
 *   activity at 15, 25 and 35 s. Logout follows at 40 s. One session, 2 tabs,
 *   engaged 40 s (not 30 + 30), idle 0, duration 40 s, 2 page views, 3 pointer
 *   and 3 key inputs.
 * - S2, user-b, starts at T0 + 1 h: activity at 10, 20 s, a 5-minute pause,
 *   activity at 320 and 330 s, then idle at 330 s + 30 min. Engaged 30 s; idle
 *   300 + 1800 = 2100 s; duration 2130 s.
 * - S3, anonymous (client-3), starts at T0 + 2 h: one page view, activity
 *   every 5 s up to 40 s, then idle. Engaged 40 s (a single page, not 0);
 *   idle 1800 s; duration 1840 s.
 * - S4, user-a again, starts at T0 + 3 h: one page view, activity at 5 s,
 *   then idle. Engaged 5 s with one page view: the only bounce. Duration 1805 s.
 *
 * T0 is 2023-11-14T22:13:20Z, so in UTC S1 and S2 fall on Nov 14 and S3 and
 * S4 on Nov 15, while in New York (UTC-5) all four fall on Nov 14.
 */
async function sendFixtures(collector: TestCollector): Promise<void> {
  const send = async (body: unknown, at: number) => {
    collector.clock.set(at);
    const response = await postBatch(collector.app, body);
    expect(response.status, await response.clone().text()).toBe(200);
  };
  const s1 = { sessionId: 'session-s1', clientId: 'client-1', userId: 'user-a' };
  await send(
    batchOf(
      [
        event('s1-start', 'session_start', T0, { tabs: 1 }),
        event('s1-view-a', 'page_view', T0, { url: 'https://shop.example/' }),
        pointer('s1-a10', T0 + 10 * SECOND),
        pointer('s1-a20', T0 + 20 * SECOND),
        pointer('s1-a30', T0 + 30 * SECOND),
      ],
      { ...s1, tabId: 'tab-s1-aaaa' },
    ),
    T0 + 31 * SECOND,
  );
  await send(
    batchOf(
      [
        event('s1-open-b', 'tab_opened', T0 + 5 * SECOND, { tabs: 2 }),
        event('s1-view-b', 'page_view', T0 + 5 * SECOND, { url: 'https://shop.example/cart' }),
        key('s1-b15', T0 + 15 * SECOND),
        key('s1-b25', T0 + 25 * SECOND),
        key('s1-b35', T0 + 35 * SECOND),
      ],
      { ...s1, tabId: 'tab-s1-bbbb' },
    ),
    T0 + 36 * SECOND,
  );
  await send(
    batchOf([event('s1-end', 'session_end', T0 + 40 * SECOND, { reason: 'logout' })], {
      ...s1,
      tabId: 'tab-s1-aaaa',
    }),
    T0 + 41 * SECOND,
  );

  const s2Start = T0 + HOUR;
  await send(
    batchOf(
      [
        event('s2-start', 'session_start', s2Start, { tabs: 1 }),
        pointer('s2-10', s2Start + 10 * SECOND),
        pointer('s2-20', s2Start + 20 * SECOND),
        pointer('s2-320', s2Start + 320 * SECOND),
        pointer('s2-330', s2Start + 330 * SECOND),
        event('s2-idle', 'idle', s2Start + 330 * SECOND + IDLE_TIMEOUT),
      ],
      { sessionId: 'session-s2', clientId: 'client-2', userId: 'user-b', tabId: 'tab-s2-aaaa' },
    ),
    s2Start + 331 * SECOND + IDLE_TIMEOUT,
  );

  const s3Start = T0 + 2 * HOUR;
  const s3Activity = [5, 10, 15, 20, 25, 30, 35, 40].map((s) =>
    pointer(`s3-${s}`, s3Start + s * SECOND),
  );
  await send(
    batchOf(
      [
        event('s3-start', 'session_start', s3Start, { tabs: 1 }),
        event('s3-view', 'page_view', s3Start, { url: 'https://shop.example/item' }),
        ...s3Activity,
        event('s3-idle', 'idle', s3Start + 40 * SECOND + IDLE_TIMEOUT),
      ],
      { sessionId: 'session-s3', clientId: 'client-3', tabId: 'tab-s3-aaaa' },
    ),
    s3Start + 41 * SECOND + IDLE_TIMEOUT,
  );

  const s4Start = T0 + 3 * HOUR;
  await send(
    batchOf(
      [
        event('s4-start', 'session_start', s4Start, { tabs: 1 }),
        event('s4-view', 'page_view', s4Start, { url: 'https://shop.example/' }),
        pointer('s4-5', s4Start + 5 * SECOND),
        event('s4-idle', 'idle', s4Start + 5 * SECOND + IDLE_TIMEOUT),
      ],
      { sessionId: 'session-s4', clientId: 'client-4', userId: 'user-a', tabId: 'tab-s4-aaaa' },
    ),
    s4Start + 6 * SECOND + IDLE_TIMEOUT,
  );
}

describe('analytics metrics on hand-computed sessions', () => {
  let collector: TestCollector;
  const range = `from=${T0 - HOUR}&to=${T0 + 5 * HOUR}`;

  beforeAll(async () => {
    collector = await createTestCollector();
    await sendFixtures(collector);
  });

  afterAll(async () => {
    await collector.cleanup();
  });

  async function report(name: string, query: string): Promise<Body> {
    const response = await collector.app.request(`/v1/analytics/${name}?${query}`, {
      headers: { authorization: `Bearer ${TEST_ANALYST_TOKEN}` },
    });
    expect(response.status, await response.clone().text()).toBe(200);
    return (await response.json()) as Body;
  }

  it('overlapping tabs count once', async () => {
    const sessions = await report('sessions', range);
    const tabs = await report('tabs', range);

    expect(sessions.totals.sessions).toBe(4);
    expect(sessions.totals.uniqueUsers).toBe(3);
    expect(tabs.maxTabs.bins).toEqual([
      { value: 1, count: 3, isOpenEnded: false },
      { value: 2, count: 1, isOpenEnded: false },
    ]);
    const s1 = await collector.storage.getSession('session-s1');
    expect(s1?.engagedMs).toBe(40 * SECOND);
    expect(s1?.idleMs).toBe(0);
  });

  it('engaged time excludes idle periods', async () => {
    const duration = await report('duration', range);

    expect((await collector.storage.getSession('session-s2'))?.engagedMs).toBe(30 * SECOND);
    expect(duration.totals.engaged.totalMs).toBe((40 + 30 + 40 + 5) * SECOND);
    expect(duration.totals.idle.totalMs).toBe((0 + 2100 + 1800 + 1800) * SECOND);
    // Engaged 5, 30, 40, 40 s: mean 28.75 s, median (30 + 40) / 2 = 35 s, p90 40 s.
    expect(duration.totals.engaged.meanMs).toBe(28_750);
    expect(duration.totals.engaged.medianMs).toBe(35 * SECOND);
    expect(duration.totals.engaged.p90Ms).toBe(40 * SECOND);
    // Durations 40, 1805, 1840, 2130 s: mean 1453.75 s, median 1822.5 s, p90 1840 + 0.7 * 290 = 2043 s.
    expect(duration.totals.duration.meanMs).toBe(1_453_750);
    expect(duration.totals.duration.medianMs).toBe(1_822_500);
    expect(duration.totals.duration.p90Ms).toBe(2_043_000);
  });

  it('single page session counts 40 s engaged', async () => {
    const s3 = await collector.storage.getSession('session-s3');

    expect(s3?.pageViews).toBe(1);
    expect(s3?.engagedMs).toBe(40 * SECOND);
    expect(s3?.endedAt! - s3?.startedAt!).toBe(1840 * SECOND);
  });

  it('bounce counts only the short visit', async () => {
    const bounce = await report('bounce', range);

    expect(bounce.totals).toEqual({ endedSessions: 4, bounces: 1, rate: 0.25 });
  });

  it('end reasons counted per reason', async () => {
    const reasons = await report('end-reasons', range);

    expect(reasons.totals).toEqual({
      logout: 1,
      idle: 3,
      absolute: 0,
      terminated: 0,
      evicted: 0,
      disabled: 0,
      closed: 0,
      live: 0,
    });
  });

  it('interactions split by input kind', async () => {
    const interactions = await report('interactions', range);

    // Pointer inputs 3 + 4 + 8 + 1 = 16 and key inputs 3, over 4 sessions.
    expect(interactions.interactionsPerSession.pointer).toBe(4);
    expect(interactions.interactionsPerSession.key).toBe(0.75);
    expect(interactions.interactionsPerSession.total).toBe(4.75);
    // Page views 2, 0, 1, 1.
    expect(interactions.pageViewsPerSession.mean).toBe(1);
    expect(interactions.pageViewsPerSession.bins).toEqual([
      { value: 0, count: 1, isOpenEnded: false },
      { value: 1, count: 2, isOpenEnded: false },
      { value: 2, count: 1, isOpenEnded: false },
    ]);
  });

  it('day buckets follow UTC', async () => {
    const sessions = await report('sessions', `${range}&interval=day&timeZone=UTC`);

    expect(sessions.buckets.map((bucket: Body) => bucket.label)).toEqual([
      '2023-11-14',
      '2023-11-15',
    ]);
    const [nov14, nov15] = sessions.buckets;
    expect(nov14).toMatchObject({ start: Date.UTC(2023, 10, 14), sessions: 2, newUsers: 2 });
    expect(nov15).toMatchObject({ sessions: 2, uniqueUsers: 2, newUsers: 1, returningUsers: 1 });
    expect(sessions.totals).toMatchObject({ newUsers: 3, returningUsers: 0 });
  });

  it('day buckets follow caller time zone', async () => {
    const query = `${range}&interval=day&timeZone=America/New_York`;
    const sessions = await report('sessions', query);
    const frequency = await report('frequency', query);

    expect(sessions.buckets).toHaveLength(1);
    expect(sessions.buckets[0]).toMatchObject({
      start: Date.UTC(2023, 10, 14, 5),
      label: '2023-11-14',
      sessions: 4,
      uniqueUsers: 3,
    });
    // User-days in New York: user-a 2 sessions, user-b 1, client-3 1.
    expect(frequency.perDay.items).toBe(3);
    expect(frequency.perDay.mean).toBe(1.33);
    expect(frequency.perDay.bins).toEqual([
      { value: 1, count: 2, isOpenEnded: false },
      { value: 2, count: 1, isOpenEnded: false },
    ]);
  });

  it('app filter excludes other apps', async () => {
    const other = await report('sessions', `${range}&appId=other-app`);
    const shop = await report('sessions', `${range}&appId=shop-web`);

    expect(other.totals.sessions).toBe(0);
    expect(other.filters).toEqual({ appId: 'other-app', policyId: null, userGroup: null });
    expect(shop.totals.sessions).toBe(4);
  });
});
