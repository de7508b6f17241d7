import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  batchReplySchema,
  errorBodySchema,
  type SessionEventInput,
  type SessionState,
} from '../../shared/src/index.js';
import {
  activity,
  batchOf,
  createTestCollector,
  postBatch,
  T0,
  TEST_ADMIN_TOKEN,
  type TestCollector,
} from './test-harness.js';

const MINUTE = 60_000;
const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' };

describe('ingest enforcement', () => {
  let collector: TestCollector;

  beforeEach(async () => {
    collector = await createTestCollector({ env: { MAX_TABS: '2', HEARTBEAT_MS: '10000' } });
    collector.clock.set(T0 + MINUTE);
    await postBatch(collector.app, batchOf([activity('event-0001', T0)], { userId: 'user-1' }));
  });

  afterEach(async () => {
    await collector.cleanup();
  });

  function terminate(id: string, reason: string) {
    return collector.app.request(`/v1/admin/sessions/${id}/terminate`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ reason }),
    });
  }

  async function eventCount(): Promise<number> {
    return (await collector.storage.listEvents('session-0001')).length;
  }

  it('termination reaches stream at once', async () => {
    const states: SessionState[] = [];
    collector.hub.subscribe('session-0001', { onState: (state) => states.push(state), onClose: () => {} });

    await terminate('session-0001', 'suspicious login');

    // Published before the reply, so every open tab's stream has it when the admin sees 200.
    expect(states).toHaveLength(1);
    expect(states[0]).toMatchObject({ state: 'ended', endReason: 'terminated' });
    const next = await postBatch(collector.app, batchOf([activity('event-0002', T0 + 1000)]));
    expect(next.status).toBe(410);
    expect(errorBodySchema.parse(await next.json()).session).toMatchObject({
      state: 'ended',
      endReason: 'terminated',
    });
  });

  it('revoked session stays dead', async () => {
    await terminate('session-0001', 'account locked');
    collector.clock.advance(MINUTE);

    const late = batchOf([activity('late-00001', T0 + 500)]);
    const beacon = batchOf([activity('beacon-0001', T0 + 2 * MINUTE)]);
    const resume = batchOf(
      [
        { id: 'resume-0001', type: 'session_start', ts: T0 + 2 * MINUTE, data: { tabs: 1 } },
        activity('resume-0002', T0 + 2 * MINUTE),
      ],
      { tabId: 'tab-00000002', userId: 'user-1' },
    );
    const responses = [
      await postBatch(collector.app, late),
      await postBatch(collector.app, beacon, { 'content-type': 'text/plain;charset=UTF-8' }),
      await postBatch(collector.app, resume),
    ];

    for (const response of responses) {
      expect(response.status).toBe(410);
      const body = errorBodySchema.parse(await response.json());
      expect(body.code).toBe('session_ended');
      expect(body.session?.endReason).toBe('terminated');
    }
    expect(await eventCount()).toBe(1);
    const row = await collector.storage.getSession('session-0001');
    expect(row).toMatchObject({ endReason: 'terminated', endNote: 'account locked', tabsNow: 1 });
    expect(row?.endedAt).toBe(T0 + MINUTE);
  });

  it('events after end never stored', async () => {
    collector.clock.set(T0 + 45 * MINUTE);

    const response = await postBatch(
      collector.app,
      batchOf([activity('event-0002', T0 + 10 * MINUTE), activity('event-0003', T0 + 41 * MINUTE)]),
    );

    const reply = batchReplySchema.parse(await response.json());
    expect(reply.accepted).toBe(1);
    expect(reply.rejected).toMatchObject([{ id: 'event-0003', code: 'session_ended' }]);
    expect(reply.session).toMatchObject({ state: 'ended', endReason: 'idle', endedAt: T0 + 40 * MINUTE });
    expect((await collector.storage.listEvents('session-0001')).map((event) => event.id)).toEqual([
      'event-0001',
      'event-0002',
    ]);
  });

  it('third tab over maxTabs rejected', async () => {
    const fromTab = (tabId: string, id: string, ts: number) =>
      postBatch(collector.app, batchOf([activity(id, ts)], { tabId }));

    const second = await fromTab('tab-00000002', 'event-0002', T0 + 1000);
    const third = await fromTab('tab-00000003', 'event-0003', T0 + 2000);

    expect(batchReplySchema.parse(await second.json()).accepted).toBe(1);
    const rejected = batchReplySchema.parse(await third.json());
    expect(rejected.accepted).toBe(0);
    expect(rejected.session.state).toBe('active');
    expect(rejected.rejected).toMatchObject([
      { id: 'event-0003', code: 'session_limit', message: expect.stringMatching(/already has 2 open tabs/) },
    ]);
    const logged = await collector.storage.admin.listIngestErrors({ limit: 10 });
    expect(logged).toContainEqual(
      expect.objectContaining({
        status: 200,
        code: 'session_limit',
        message: expect.stringMatching(/^1 of 1 events rejected: The session already has 2 open tabs/),
      }),
    );

    // Two heartbeat intervals (2 x 10 s) without a batch free the first tab's slot.
    collector.clock.advance(21_000);
    await fromTab('tab-00000002', 'event-0004', T0 + MINUTE + 20_000);
    const retry = await fromTab('tab-00000003', 'event-0005', T0 + MINUTE + 21_000);
    expect(batchReplySchema.parse(await retry.json()).accepted).toBe(1);
  });

  /** Posts `events` as one batch of session-0001 from tab `tabId`. */
  const postFromTab = (tabId: string, events: SessionEventInput[]) =>
    postBatch(collector.app, batchOf(events, { tabId }));
  const closed: SessionEventInput = {
    id: 'close-0002',
    type: 'tab_closed',
    ts: T0 + 1500,
    data: { tabs: 1 },
  };

  it('closed tab frees its slot', async () => {
    await postFromTab('tab-00000002', [activity('event-0002', T0 + 1000)]);
    await postFromTab('tab-00000002', [closed]);
    const third = await postFromTab('tab-00000003', [activity('event-0003', T0 + 2000)]);
    const reopened = await postFromTab('tab-00000002', [activity('event-0004', T0 + 3000)]);

    expect(batchReplySchema.parse(await third.json()).accepted).toBe(1);
    const rejected = batchReplySchema.parse(await reopened.json());
    expect(rejected.accepted).toBe(0);
    expect(rejected.rejected).toMatchObject([{ id: 'event-0004', code: 'session_limit' }]);
  });

  it('tab events after tab_closed keep slot', async () => {
    await postFromTab('tab-00000002', [closed, activity('event-0002', T0 + 2000)]);
    const third = await postFromTab('tab-00000003', [activity('event-0003', T0 + 2500)]);

    expect(batchReplySchema.parse(await third.json()).accepted).toBe(0);
  });

  it('automatic ends audited with actor', async () => {
    const logout = batchOf(
      [{ id: 'logout-0001', type: 'session_end', ts: T0 + 1000, data: { reason: 'logout' } }],
      { sessionId: 'session-0002' },
    );
    await postBatch(collector.app, batchOf([activity('event-0101', T0)], { sessionId: 'session-0002' }));
    await postBatch(collector.app, logout);
    collector.clock.set(T0 + 31 * MINUTE + 1);
    await collector.service.expireSessions();

    const entries = await collector.storage.admin.listAudit({ limit: 10, action: 'session.end' });
    const byTarget = Object.fromEntries(entries.map((entry) => [entry.targetId, entry]));
    expect(byTarget['session-0001']).toMatchObject({ actorName: 'system', actorRole: 'system', reason: 'idle' });
    expect(byTarget['session-0002']).toMatchObject({ actorName: 'client', actorRole: 'client', reason: 'logout' });
    expect(byTarget['session-0001']?.details).toMatchObject({ appId: 'shop-web', userId: 'user-1', endedAt: T0 + 30 * MINUTE });
  });
});
