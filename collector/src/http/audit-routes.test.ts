import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { errorBodySchema } from '../../../shared/src/index.js';
import {
  activity,
  batchOf,
  createTestCollector,
  postBatch,
  T0,
  TEST_ADMIN_TOKEN,
  type TestCollector,
} from '../test-harness.js';
import { auditEntrySchema, ingestErrorSchema } from './admin-schemas.js';

const MINUTE = 60_000;
const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' };
const auditPageSchema = z.object({ entries: z.array(auditEntrySchema), nextCursor: z.string().nullable() });
const errorPageSchema = z.object({ errors: z.array(ingestErrorSchema), nextCursor: z.string().nullable() });

describe('audit and integration log', () => {
  let collector: TestCollector;

  beforeEach(async () => {
    collector = await createTestCollector({ env: { ABSOLUTE_TIMEOUT_MS: String(60 * MINUTE) } });
    collector.clock.set(T0 + MINUTE);
  });

  afterEach(async () => {
    await collector.cleanup();
  });

  function get(path: string) {
    return collector.app.request(path, { headers: auth });
  }

  async function startSessions(count: number) {
    for (let index = 1; index <= count; index += 1) {
      const id = `session-000${index}`;
      await postBatch(collector.app, batchOf([activity(`event-000${index}`, T0)], { sessionId: id }));
    }
  }

  it('audit pages with cursor', async () => {
    await startSessions(3);
    for (const id of ['session-0001', 'session-0002', 'session-0003']) {
      await collector.app.request(`/v1/admin/sessions/${id}/terminate`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ reason: `close ${id}` }),
      });
    }

    const first = auditPageSchema.parse(await (await get('/v1/admin/audit?limit=2')).json());
    const second = auditPageSchema.parse(
      await (await get(`/v1/admin/audit?limit=2&cursor=${first.nextCursor}`)).json(),
    );

    expect(first.entries.map((entry) => entry.targetId)).toEqual(['session-0003', 'session-0002']);
    expect(first.entries[0]).toMatchObject({
      action: 'session.terminate',
      actor: { name: 'admin', role: 'admin' },
      targetType: 'session',
      reason: 'close session-0003',
    });
    expect(first.entries[0]!.seq).toBeGreaterThan(first.entries[1]!.seq);
    expect(second.entries.map((entry) => entry.targetId)).toEqual(['session-0001']);
    expect(second.nextCursor).toBeNull();
    const bad = await get('/v1/admin/audit?cursor=abc');
    expect(bad.status).toBe(400);
    expect(errorBodySchema.parse(await bad.json()).issues?.[0]?.path).toEqual(['cursor']);
  });

  it('audit filters by action', async () => {
    await startSessions(1);
    await collector.app.request('/v1/admin/settings', {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ heartbeatMs: 15_000 }),
    });

    const page = auditPageSchema.parse(await (await get('/v1/admin/audit?action=settings.update')).json());

    expect(page.entries).toHaveLength(1);
    expect(page.entries[0]).toMatchObject({ targetType: 'settings', actor: { name: 'admin' } });
    const all = JSON.stringify(await (await get('/v1/admin/audit')).json());
    expect(all).not.toContain(TEST_ADMIN_TOKEN);
  });

  it('closed and absolute ends audited', async () => {
    await postBatch(
      collector.app,
      batchOf([{ id: 'closed-001', type: 'tab_closed', ts: T0, data: { tabs: 0 } }], { sessionId: 'closed-0001' }),
    );
    await startSessions(1);
    // No open tab and no batch for two heartbeat intervals (2 x 30 s) closes it.
    collector.clock.set(T0 + 2 * MINUTE + 1);
    await collector.service.expireSessions();
    // Activity every 20 min keeps session-0001 from going idle until its 60 min limit.
    for (let minute = 20; minute < 60; minute += 20) {
      collector.clock.set(T0 + minute * MINUTE);
      await postBatch(collector.app, batchOf([activity(`keep-${minute}-0000`, T0 + minute * MINUTE)]));
    }

    collector.clock.set(T0 + 60 * MINUTE + 1);
    await collector.service.expireSessions();

    const page = auditPageSchema.parse(await (await get('/v1/admin/audit?action=session.end')).json());
    const reasons = Object.fromEntries(page.entries.map((entry) => [entry.targetId, entry.reason]));
    expect(reasons).toEqual({ 'closed-0001': 'closed', 'session-0001': 'absolute' });
    expect(page.entries.every((entry) => entry.actor.name === 'system')).toBe(true);
  });

  it('rejected ingest requests logged', async () => {
    await postBatch(collector.app, '{"v":1,');
    await postBatch(collector.app, { v: 1, appId: 'shop-web', sessionId: 'session-0001', events: [] });
    await collector.app.request('/v1/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body: JSON.stringify(batchOf([activity('event-0001', T0)], { appId: 'blog' })),
    });
    await startSessions(1);

    const page = errorPageSchema.parse(await (await get('/v1/admin/ingest-errors')).json());

    expect(page.errors.map((error) => [error.status, error.code, error.appId, error.origin])).toEqual([
      [403, 'origin_not_allowed', null, 'https://evil.example'],
      [400, 'invalid_batch', 'shop-web', null],
      [400, 'invalid_json', null, null],
    ]);
    expect(page.errors[1]).toMatchObject({ sessionId: 'session-0001', message: expect.stringMatching(/^Invalid batch at/) });
    expect(page.errors[0]?.at).toBe(T0 + MINUTE);
    expect(page.errors[0]?.requestId).toMatch(/\S/);
    const filtered = errorPageSchema.parse(await (await get('/v1/admin/ingest-errors?code=invalid_json')).json());
    expect(filtered.errors).toHaveLength(1);
  });

  it('ended session batches logged', async () => {
    await startSessions(1);
    await collector.service.terminate('session-0001', null, { name: 'admin', role: 'admin' });

    await postBatch(collector.app, batchOf([activity('event-0002', T0 + 1000)]));

    const page = errorPageSchema.parse(await (await get('/v1/admin/ingest-errors')).json());
    expect(page.errors).toMatchObject([
      { status: 410, code: 'session_ended', appId: 'shop-web', sessionId: 'session-0001' },
    ]);
  });
});
