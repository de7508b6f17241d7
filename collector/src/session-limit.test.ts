import { afterEach, describe, expect, it } from 'vitest';
import { errorBodySchema, type SessionState } from '../../shared/src/index.js';
import { eventRowFixture } from './storage/test-fixtures.js';
import {
  activity,
  batchOf,
  createTestCollector,
  postBatch,
  T0,
  TEST_ADMIN_TOKEN,
  type TestCollector,
} from './test-harness.js';

const STARTS = 20;

function sessionId(index: number): string {
  return `race-session-${String(index).padStart(2, '0')}`;
}

describe('per-user session limit', () => {
  let collector: TestCollector;

  afterEach(async () => {
    await collector.cleanup();
  });

  async function start(behavior: 'reject' | 'terminate_oldest') {
    collector = await createTestCollector({
      env: { MAX_SESSIONS_PER_USER: '1', SESSION_LIMIT_BEHAVIOR: behavior },
    });
    collector.clock.set(T0 + 60_000);
    // Sessions that must not count: another user's and an anonymous one.
    await postBatch(collector.app, batchOf([activity('other-0001', T0)], { sessionId: 'other-user-1', userId: 'user-2' }));
    await postBatch(collector.app, batchOf([activity('anon-0001', T0)], { sessionId: 'anonymous-1' }));
  }

  /** Sends the first batch of 20 sessions of user-1 at once and records every stream state. */
  async function raceStarts() {
    const states = new Map<string, SessionState[]>();
    for (let index = 0; index < STARTS; index += 1) {
      const list: SessionState[] = [];
      states.set(sessionId(index), list);
      collector.hub.subscribe(sessionId(index), { onState: (state) => list.push(state), onClose: () => {} });
    }
    // A large write first keeps the queue busy, so the 20 starts queue up and commit in one
    // group, the hardest case: no start sees another one committed.
    const busy = collector.storage.transact({
      sessionIds: [],
      eventIds: [],
      apply: (view) => {
        for (let index = 0; index < 5000; index += 1) {
          view.addEvent(eventRowFixture({ id: `filler-${String(index).padStart(5, '0')}` }));
        }
      },
    });
    const responses = await Promise.all(
      Array.from({ length: STARTS }, (_, index) =>
        postBatch(
          collector.app,
          batchOf([activity(`race-event-${String(index).padStart(2, '0')}`, T0 + index)], {
            sessionId: sessionId(index),
            clientId: `client-${String(index).padStart(4, '0')}`,
            userId: 'user-1',
          }),
        ),
      ),
    );
    await busy;
    return { responses, states };
  }

  async function liveOfUser(userId: string) {
    const response = await collector.app.request(`/v1/admin/sessions?userId=${userId}`, {
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    return ((await response.json()) as { sessions: Array<{ id: string }> }).sessions;
  }

  it('reject keeps exactly one session', async () => {
    await start('reject');

    const { responses } = await raceStarts();

    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 409)).toHaveLength(STARTS - 1);
    for (const response of responses.filter((entry) => entry.status === 409)) {
      const body = errorBodySchema.parse(await response.json());
      expect(body.code).toBe('session_limit');
      expect(body.message).toContain('user-1 already has 1 live session, the maximum');
    }
    expect(await liveOfUser('user-1')).toHaveLength(1);
    const stored = await Promise.all(
      Array.from({ length: STARTS }, (_, index) => collector.storage.getSession(sessionId(index))),
    );
    expect(stored.filter(Boolean)).toHaveLength(1);
    expect(await liveOfUser('user-2')).toHaveLength(1);
    expect((await collector.storage.getSession('anonymous-1'))?.endedAt).toBeNull();
  });

  it('terminate_oldest keeps exactly one session', async () => {
    await start('terminate_oldest');

    const { responses, states } = await raceStarts();

    expect(responses.map((response) => response.status)).toEqual(Array(STARTS).fill(200));
    const live = await liveOfUser('user-1');
    expect(live).toHaveLength(1);
    const evicted: string[] = [];
    for (let index = 0; index < STARTS; index += 1) {
      const row = await collector.storage.getSession(sessionId(index));
      if (row?.id === live[0]?.id) continue;
      expect(row?.endReason, sessionId(index)).toBe('evicted');
      evicted.push(sessionId(index));
      // Each evicted session heard of its end on the stream.
      expect(states.get(sessionId(index))?.at(-1), sessionId(index)).toMatchObject({
        state: 'ended',
        endReason: 'evicted',
      });
    }
    expect(evicted).toHaveLength(STARTS - 1);
    const audit = await collector.storage.admin.listAudit({ limit: 100, action: 'session.end' });
    const evictions = audit.filter((entry) => entry.reason === 'evicted');
    expect(evictions.map((entry) => entry.targetId).sort()).toEqual(evicted.sort());
    expect(evictions.every((entry) => entry.actorName === 'system')).toBe(true);
    expect(await liveOfUser('user-2')).toHaveLength(1);
    expect((await collector.storage.getSession('anonymous-1'))?.endedAt).toBeNull();
  });

  it('terminate_oldest evicts the oldest one', async () => {
    collector = await createTestCollector({
      env: { MAX_SESSIONS_PER_USER: '2', SESSION_LIMIT_BEHAVIOR: 'terminate_oldest' },
    });
    collector.clock.set(T0 + 60_000);
    for (const [index, id] of ['first-0001', 'second-001', 'third-0001'].entries()) {
      const batch = batchOf([activity(`event-${id}`, T0 + index * 1000)], { sessionId: id, userId: 'user-1' });
      expect((await postBatch(collector.app, batch)).status).toBe(200);
    }

    expect((await collector.storage.getSession('first-0001'))?.endReason).toBe('evicted');
    expect((await collector.storage.getSession('second-001'))?.endedAt).toBeNull();
    expect((await collector.storage.getSession('third-0001'))?.endedAt).toBeNull();
  });

  it('identify at limit rejected', async () => {
    await start('reject');
    await postBatch(collector.app, batchOf([activity('event-0001', T0)], { sessionId: 'owned-0001', userId: 'user-1' }));

    const response = await postBatch(
      collector.app,
      batchOf([activity('anon-0002', T0 + 1000)], { sessionId: 'anonymous-1', userId: 'user-1' }),
    );

    expect(response.status).toBe(409);
    expect(errorBodySchema.parse(await response.json()).code).toBe('session_limit');
    const anonymous = await collector.storage.getSession('anonymous-1');
    expect(anonymous?.userId).toBeNull();
    expect(anonymous?.eventCount).toBe(1);
    // The user's own session sends again freely.
    const again = batchOf([activity('event-0002', T0 + 2000)], { sessionId: 'owned-0001', userId: 'user-1' });
    expect((await postBatch(collector.app, again)).status).toBe(200);
  });

  it('limit counts one app only', async () => {
    await start('reject');
    await postBatch(collector.app, batchOf([activity('event-0001', T0)], { sessionId: 'shop-00001', userId: 'user-1' }));

    const blog = batchOf([activity('event-0002', T0)], { sessionId: 'blog-00001', appId: 'blog', userId: 'user-1' });
    const response = await postBatch(collector.app, blog);

    expect(response.status).toBe(200);
  });
});
