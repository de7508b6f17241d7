import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorBodySchema, type SessionState, sessionStateSchema } from '../../../shared/src/index.js';
import {
  activity,
  batchOf,
  createTestCollector,
  postBatch,
  T0,
  TEST_ADMIN_TOKEN,
  type TestCollector,
} from '../test-harness.js';
import { sessionDetailSchema, sessionListSchema, terminateUserReplySchema } from './admin-schemas.js';

const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

describe('admin API', () => {
  let collector: TestCollector;

  beforeEach(async () => {
    collector = await createTestCollector();
    collector.clock.set(T0 + 60_000);
    await postBatch(collector.app, batchOf([activity('event-0001', T0)], { userId: 'user-1' }));
    await postBatch(
      collector.app,
      batchOf([activity('event-0002', T0)], { sessionId: 'session-0002', userId: 'user-2' }),
    );
  });

  afterEach(async () => {
    await collector.cleanup();
  });

  function terminate(id: string, body?: string, headers: Record<string, string> = auth) {
    return collector.app.request(`/v1/admin/sessions/${id}/terminate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
  }

  it('missing token gets 401', async () => {
    const paths = ['/v1/admin/sessions', '/v1/analytics/summary'];

    for (const path of paths) {
      const response = await collector.app.request(path);
      expect(response.status, path).toBe(401);
      expect(response.headers.get('www-authenticate'), path).toMatch(/^Bearer/);
      expect(errorBodySchema.parse(await response.json()).code, path).toBe('unauthorized');
    }
    expect((await terminate('session-0001', '{}', {})).status).toBe(401);
  });

  it('wrong token gets 401', async () => {
    const wrong = [`Bearer ${TEST_ADMIN_TOKEN}x`, `Bearer ${TEST_ADMIN_TOKEN.slice(1)}`, TEST_ADMIN_TOKEN, 'Basic abc'];

    for (const authorization of wrong) {
      const response = await collector.app.request('/v1/admin/sessions', { headers: { authorization } });
      expect(response.status, authorization).toBe(401);
    }
  });

  it('admin lists live sessions', async () => {
    const response = await collector.app.request('/v1/admin/sessions?userId=user-2', { headers: auth });

    expect(response.status).toBe(200);
    const body = (await response.json()) as { sessions: Array<Record<string, unknown>>; count: number };
    expect(body.count).toBe(1);
    expect(body.sessions[0]).toMatchObject({ id: 'session-0002', userId: 'user-2', interactions: 1 });
    expect(typeof body.sessions[0]?.startedAt).toBe('number');
  });

  it('bad list limit gets 400', async () => {
    for (const limit of ['0', '-1', '2.5', 'many', '1001']) {
      const response = await collector.app.request(`/v1/admin/sessions?limit=${limit}`, {
        headers: auth,
      });

      expect(response.status, limit).toBe(400);
      const body = errorBodySchema.parse(await response.json());
      expect(body.code, limit).toBe('invalid_query');
      expect(body.message, limit).toBe('Query parameter limit: must be an integer from 1 to 1000');
    }
  });

  it.each([
    ['/v1/admin/sessions?user=user-2', 'Query parameter "user" is not supported; use '],
    ['/v1/admin/sessions?state=all&state=zzz', 'Query parameter "state" is given 2 times; give it once'],
    ['/v1/admin/audit?limit=5&x%00y=1', 'Query parameter "x\\u0000y" is not supported; use '],
    ['/v1/admin/policies/resolve?appId=shop&grp=a', 'Query parameter "grp" is not supported; use '],
  ])('misused query parameter in %s gets 400', async (path, message) => {
    const response = await collector.app.request(path, { headers: auth });

    expect(response.status).toBe(400);
    const body = errorBodySchema.parse(await response.json());
    expect(body.code).toBe('invalid_query');
    expect(body.message.startsWith(message), body.message).toBe(true);
  });

  it('terminate ends session with note', async () => {
    const states: SessionState[] = [];
    collector.hub.subscribe('session-0001', { onState: (state) => states.push(state), onClose: () => {} });
    collector.clock.set(T0 + 120_000);

    const response = await terminate('session-0001', JSON.stringify({ reason: 'account locked' }));

    expect(response.status).toBe(200);
    const { session } = (await response.json()) as { session: SessionState };
    expect(sessionStateSchema.parse(session)).toMatchObject({
      state: 'ended',
      endReason: 'terminated',
      endedAt: T0 + 120_000,
    });
    expect(states).toEqual([session]);
    expect((await collector.storage.getSession('session-0001'))?.endNote).toBe('account locked');
    const live = await collector.app.request('/v1/admin/sessions', { headers: auth });
    expect(((await live.json()) as { count: number }).count).toBe(1);
  });

  it('terminate twice is harmless', async () => {
    const first = await terminate('session-0001');
    collector.clock.set(T0 + 300_000);

    const second = await terminate('session-0001', '{"reason":"again"}');

    expect(second.status).toBe(200);
    expect(await second.json()).toEqual(await first.json());
    expect((await collector.storage.getSession('session-0001'))?.endNote).toBeNull();
  });

  it('terminate unknown session gets 404', async () => {
    const unknown = await terminate('session-9999');
    const malformed = await terminate('bad id!');

    expect(unknown.status).toBe(404);
    expect(errorBodySchema.parse(await unknown.json()).code).toBe('not_found');
    expect(malformed.status).toBe(404);
    const malformedBody = errorBodySchema.parse(await malformed.json());
    expect(malformedBody.message).toMatch(/^Path parameter id "bad id!" matches nothing: must be /);
    expect(malformedBody.issues?.[0]?.path).toEqual(['id']);
    const control = await terminate('bad%00id');
    expect(errorBodySchema.parse(await control.json()).message).toMatch(
      /^Path parameter id "bad\\u0000id" matches nothing: /,
    );
  });

  it('invalid user id named in 404', async () => {
    const longId = 'u'.repeat(257);

    const routes = [
      ['POST', `/v1/admin/users/${longId}/sessions/terminate`],
      ['PUT', `/v1/admin/user-groups/${longId}`],
      ['GET', `/v1/admin/users/${longId}/export`],
    ] as const;
    for (const [method, path] of routes) {
      const response = await collector.app.request(path, { method, headers: auth });
      expect(response.status, path).toBe(404);
      const body = errorBodySchema.parse(await response.json());
      expect(body.code, path).toBe('not_found');
      expect(body.message, path).toBe(
        `Path parameter userId "${'u'.repeat(64)}" matches nothing: ` +
          'Too big: expected string to have <=256 characters',
      );
    }
  });

  it('terminate bad body gets 400', async () => {
    const badJson = await terminate('session-0001', '{"reason":');
    const badReason = await terminate('session-0001', JSON.stringify({ reason: 'x'.repeat(513) }));

    expect(errorBodySchema.parse(await badJson.json()).code).toBe('invalid_json');
    const body = errorBodySchema.parse(await badReason.json());
    expect(body.code).toBe('invalid_request');
    expect(body.issues?.[0]?.path).toEqual(['reason']);
    expect((await collector.storage.getSession('session-0001'))?.endedAt).toBeNull();
  });

  it('non-JSON body gets 415', async () => {
    const cases: Array<Record<string, string>> = [
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/x-www-form-urlencoded' },
      {},
    ];

    for (const headers of cases) {
      const response = await collector.app.request('/v1/admin/sessions/session-0001/terminate', {
        method: 'POST',
        headers: { ...auth, ...headers },
        body: JSON.stringify({ reason: 'test' }),
      });
      const label = JSON.stringify(headers);
      expect(response.status, label).toBe(415);
      const body = errorBodySchema.parse(await response.json());
      expect(body.message, label).toMatch(/^Content-Type must be application\/json for a request/);
    }
    expect((await collector.storage.getSession('session-0001'))?.endedAt).toBeNull();
  });

  it('empty body needs no content type', async () => {
    const response = await collector.app.request('/v1/admin/sessions/session-0001/terminate', {
      method: 'POST',
      headers: auth,
    });

    expect(response.status).toBe(200);
  });

  it('compressed body gets 415', async () => {
    const response = await collector.app.request('/v1/admin/sessions/session-0001/terminate', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'content-encoding': 'br' },
      body: JSON.stringify({ reason: 'test' }),
    });

    expect(response.status).toBe(415);
    const body = errorBodySchema.parse(await response.json());
    expect(body.code).toBe('unsupported_media_type');
    expect(body.message).toContain('received br');
    expect((await collector.storage.getSession('session-0001'))?.endedAt).toBeNull();
  });

  it('token never logged', async () => {
    await collector.app.request('/v1/admin/sessions', { headers: auth });
    await collector.app.request('/v1/admin/sessions', { headers: { authorization: 'Bearer wrong-token-123456' } });

    expect(collector.logLines.length).toBeGreaterThan(2);
    for (const line of collector.logLines) {
      expect(line).not.toContain(TEST_ADMIN_TOKEN);
      expect(line).not.toContain('wrong-token-123456');
    }
  });

  it('list pages and filters by state', async () => {
    await collector.service.terminate('session-0002', null, { name: 'admin', role: 'admin' });
    for (const id of ['session-0003', 'session-0004']) {
      await postBatch(collector.app, batchOf([activity(`event-${id}`, T0 + 1000)], { sessionId: id }));
    }
    const list = async (query: string) => {
      const response = await collector.app.request(`/v1/admin/sessions${query}`, { headers: auth });
      return sessionListSchema.parse(await response.json());
    };

    const first = await list('?state=all&limit=2');
    const second = await list(`?state=all&limit=2&cursor=${first.nextCursor}`);
    const ended = await list('?state=ended');
    const active = await list('');

    // Newest start first; session-0003 and -0004 started 1 s after the others.
    expect(first.sessions.map((session) => session.id)).toEqual(['session-0004', 'session-0003']);
    expect(second.sessions.map((session) => session.id)).toEqual(['session-0002', 'session-0001']);
    expect((await list(`?state=all&limit=2&cursor=${second.nextCursor}`)).sessions).toEqual([]);
    expect(ended.sessions.map((session) => [session.id, session.state])).toEqual([['session-0002', 'ended']]);
    expect(active.count).toBe(3);
    expect(active.nextCursor).toBeNull();
    const bad = await collector.app.request('/v1/admin/sessions?cursor=bm9wZQ', { headers: auth });
    expect(bad.status).toBe(400);
  });

  it('session read with recent events', async () => {
    await postBatch(collector.app, batchOf([activity('event-0003', T0 + 2000, 5)]));

    const response = await collector.app.request('/v1/admin/sessions/session-0001?events=1', { headers: auth });

    expect(response.status).toBe(200);
    const body = sessionDetailSchema.parse(await response.json());
    expect(body.session).toMatchObject({ id: 'session-0001', interactions: 6, state: 'active' });
    expect(body.state).toMatchObject({ id: 'session-0001', state: 'active' });
    expect(body.events).toEqual([
      expect.objectContaining({ id: 'event-0003', type: 'activity', data: { kind: 'pointer', count: 5 } }),
    ]);
    const missing = await collector.app.request('/v1/admin/sessions/session-9999', { headers: auth });
    expect(missing.status).toBe(404);
  });

  it('terminate user ends all sessions', async () => {
    await postBatch(
      collector.app,
      batchOf([activity('event-0003', T0)], { sessionId: 'session-0003', appId: 'blog', userId: 'user-1' }),
    );
    const terminateUser = (body: unknown) =>
      collector.app.request('/v1/admin/users/user-1/sessions/terminate', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: JSON.stringify(body),
      });

    const first = terminateUserReplySchema.parse(await (await terminateUser({ reason: 'offboarded' })).json());
    const second = terminateUserReplySchema.parse(await (await terminateUser({ reason: 'again' })).json());

    expect(first.count).toBe(2);
    expect(first.sessions.map((session) => session.endReason)).toEqual(['terminated', 'terminated']);
    expect(second).toEqual({ userId: 'user-1', count: 0, sessions: [] });
    expect((await collector.storage.getSession('session-0002'))?.endedAt).toBeNull();
    expect((await collector.storage.getSession('session-0003'))?.endNote).toBe('offboarded');
    const audit = await collector.storage.admin.listAudit({ limit: 10, targetId: 'user-1' });
    expect(audit.map((entry) => entry.details?.sessionIds)).toEqual([[], ['session-0001', 'session-0003']]);
  });

  it('terminate audited with actor', async () => {
    await terminate('session-0001', JSON.stringify({ reason: 'account locked' }));
    await terminate('session-0001', JSON.stringify({ reason: 'again' }));

    const audit = await collector.storage.admin.listAudit({ limit: 10, targetId: 'session-0001' });

    expect(audit.map((entry) => [entry.action, entry.actorName, entry.reason])).toEqual([
      ['session.terminate', 'admin', 'again'],
      ['session.terminate', 'admin', 'account locked'],
    ]);
    expect(audit[0]?.details).toMatchObject({ alreadyEnded: true, endReason: 'terminated' });
  });
});
