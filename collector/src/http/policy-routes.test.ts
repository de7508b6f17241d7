import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  batchReplySchema,
  errorBodySchema,
  type SessionState,
} from '../../../shared/src/index.js';
import { SessionService } from '../session-service.js';
import {
  activity,
  batchOf,
  createTestCollector,
  postBatch,
  T0,
  TEST_ADMIN_TOKEN,
  type TestCollector,
} from '../test-harness.js';
import { policyReplySchema, resolveReplySchema, settingsReplySchema } from './admin-schemas.js';

const MINUTE = 60_000;
const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' };

describe('policy routes', () => {
  let collector: TestCollector;

  beforeEach(async () => {
    collector = await createTestCollector();
    collector.clock.set(T0 + MINUTE);
  });

  afterEach(async () => {
    await collector.cleanup();
  });

  function send(method: string, path: string, body?: unknown) {
    return collector.app.request(path, {
      method,
      headers: auth,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  function subscribe(sessionId: string): SessionState[] {
    const states: SessionState[] = [];
    collector.hub.subscribe(sessionId, { onState: (state) => states.push(state), onClose: () => {} });
    return states;
  }

  async function startSession(sessionId: string, overrides: Record<string, unknown> = {}) {
    const batch = batchOf([activity(`${sessionId}-e1`, T0)], { sessionId, ...overrides });
    return postBatch(collector.app, batch);
  }

  describe('settings', () => {
    it('settings read config defaults', async () => {
      const response = await send('GET', '/v1/admin/settings');

      expect(response.status).toBe(200);
      expect(settingsReplySchema.parse(await response.json()).settings).toEqual({
        enabled: true,
        idleTimeoutMs: 30 * MINUTE,
        absoluteTimeoutMs: 12 * 60 * MINUTE,
        warningMs: MINUTE,
        heartbeatMs: 30_000,
        maxSessionsPerUser: null,
        sessionLimitBehavior: 'reject',
        maxTabs: null,
      });
    });

    it('invalid settings name field and range', async () => {
      const cases: Array<[unknown, Array<string | number>, RegExp]> = [
        [{ idleTimeoutMs: 50 }, ['idleTimeoutMs'], /must be an integer from 1000 to 604800000 \(milliseconds\), received 50/],
        [{ heartbeatMs: '5000' }, ['heartbeatMs'], /must be an integer from 1000 to 600000 \(milliseconds\), received "5000"/],
        [{ maxSessionsPerUser: 0 }, ['maxSessionsPerUser'], /from 1 to 1000, or null for no limit, received 0/],
        [{ maxTabs: 1.5 }, ['maxTabs'], /from 1 to 1000, or null for no limit, received 1.5/],
        [{ sessionLimitBehavior: 'deny' }, ['sessionLimitBehavior'], /must be one of reject, terminate_oldest, received "deny"/],
        [{ enabled: 'no' }, ['enabled'], /must be true or false/],
        [{ idle: 5 }, [], /unknown field "idle"; the fields are enabled, idleTimeoutMs/],
        [{ warningMs: 30 * MINUTE }, ['warningMs'], /must be less than idleTimeoutMs \(1800000\), received 1800000/],
        [{ absoluteTimeoutMs: 10 * MINUTE }, ['absoluteTimeoutMs'], /must be at least idleTimeoutMs \(1800000\)/],
      ];

      for (const [body, path, message] of cases) {
        const response = await send('PUT', '/v1/admin/settings', body);
        expect(response.status, JSON.stringify(body)).toBe(400);
        const error = errorBodySchema.parse(await response.json());
        expect(error.code, JSON.stringify(body)).toBe('invalid_request');
        expect(error.issues?.[0]?.path, JSON.stringify(body)).toEqual(path);
        expect(error.message, JSON.stringify(body)).toMatch(message);
      }
      const settings = settingsReplySchema.parse(await (await send('GET', '/v1/admin/settings')).json());
      expect(settings.settings.idleTimeoutMs).toBe(30 * MINUTE);
    });

    it('settings change reaches live streams', async () => {
      await startSession('session-0001');
      const states = subscribe('session-0001');

      const response = await send('PUT', '/v1/admin/settings', {
        idleTimeoutMs: 10 * MINUTE,
        heartbeatMs: 5_000,
        maxTabs: 4,
      });

      expect(response.status).toBe(200);
      const reply = settingsReplySchema.parse(await response.json());
      expect(reply.settings.idleTimeoutMs).toBe(10 * MINUTE);
      expect(reply.liveSessions).toBe(1);
      expect(states).toHaveLength(1);
      expect(states[0]).toMatchObject({
        state: 'active',
        policy: { idleTimeoutMs: 10 * MINUTE, heartbeatMs: 5_000, maxTabs: 4 },
      });
      expect((await collector.storage.getSession('session-0001'))?.idleTimeoutMs).toBe(10 * MINUTE);
      const next = await postBatch(collector.app, batchOf([activity('event-0002', T0 + 1000)]));
      expect(batchReplySchema.parse(await next.json()).session.policy.heartbeatMs).toBe(5_000);
    });

    it('settings change audited and persisted', async () => {
      await send('PUT', '/v1/admin/settings', { warningMs: 30_000, maxSessionsPerUser: 3 });

      const [entry] = await collector.storage.admin.listAudit({ limit: 10, action: 'settings.update' });
      expect(entry).toMatchObject({ actorName: 'admin', actorRole: 'admin', targetType: 'settings' });
      expect(entry?.details).toEqual({
        changes: {
          warningMs: { from: MINUTE, to: 30_000 },
          maxSessionsPerUser: { from: null, to: 3 },
        },
      });
      // A new service reads the settings from the database, as after a restart.
      const restarted = new SessionService({
        storage: collector.storage,
        hub: collector.hub,
        config: collector.config,
      });
      await restarted.ready();
      expect(restarted.policies.defaults.warningMs).toBe(30_000);
      expect(restarted.policies.defaults.maxSessionsPerUser).toBe(3);
    });

    it('unchanged settings not audited', async () => {
      await startSession('session-0001');

      const empty = await send('PUT', '/v1/admin/settings', {});
      const same = await send('PUT', '/v1/admin/settings', { warningMs: MINUTE });

      for (const response of [empty, same]) {
        expect(response.status).toBe(200);
        expect(await response.json()).toMatchObject({ liveSessions: 0 });
      }
      expect(await collector.storage.admin.listAudit({ limit: 10, action: 'settings.update' })).toEqual([]);
    });

    it('shorter idle ends stale session', async () => {
      await startSession('session-0001');
      collector.clock.set(T0 + 20 * MINUTE);

      await send('PUT', '/v1/admin/settings', { idleTimeoutMs: 10 * MINUTE, warningMs: 0 });

      const row = await collector.storage.getSession('session-0001');
      expect(row?.endReason).toBe('idle');
      // It ends when the change applied, not at the earlier limit, because it was live until then.
      expect(row?.endedAt).toBe(T0 + 20 * MINUTE);
    });
  });

  describe('enabled switch', () => {
    it('switch off ends live sessions', async () => {
      await startSession('session-0001');
      const states = subscribe('session-0001');

      const response = await send('PUT', '/v1/admin/settings', { enabled: false });

      expect(response.status).toBe(200);
      expect(states.at(-1)).toMatchObject({ state: 'ended', endReason: 'disabled', policy: { enabled: false } });
      expect((await collector.storage.getSession('session-0001'))?.endReason).toBe('disabled');
      const audit = await collector.storage.admin.listAudit({ limit: 10, targetId: 'session-0001' });
      expect(audit[0]).toMatchObject({ action: 'session.end', reason: 'disabled', actorName: 'admin' });
    });

    it('switch off rejects new sessions', async () => {
      await send('PUT', '/v1/admin/settings', { enabled: false });

      const response = await startSession('session-0002');

      expect(response.status).toBe(403);
      const body = errorBodySchema.parse(await response.json());
      expect(body.code).toBe('tracking_disabled');
      expect(body.session).toMatchObject({
        id: 'session-0002',
        state: 'ended',
        endReason: 'disabled',
        policy: { enabled: false },
      });
      expect(await collector.storage.getSession('session-0002')).toBeUndefined();
    });

    it('switch on resumes new sessions', async () => {
      await startSession('session-0001');
      await send('PUT', '/v1/admin/settings', { enabled: false });

      await send('PUT', '/v1/admin/settings', { enabled: true });
      const fresh = await startSession('session-0002');
      const old = await postBatch(collector.app, batchOf([activity('event-0009', T0 + 2000)]));

      expect(fresh.status).toBe(200);
      expect(batchReplySchema.parse(await fresh.json()).session.policy.enabled).toBe(true);
      // A session ended by the switch stays ended.
      expect(old.status).toBe(410);
      expect(errorBodySchema.parse(await old.json()).session?.endReason).toBe('disabled');
    });
  });

  describe('custom policies', () => {
    const nightShift = {
      name: 'night shift',
      userGroup: 'night',
      settings: { idleTimeoutMs: 5 * MINUTE, warningMs: 30_000 },
    };

    it('policy created read replaced deleted', async () => {
      const created = await send('POST', '/v1/admin/policies', nightShift);
      expect(created.status).toBe(201);
      const { policy } = policyReplySchema.parse(await created.json());
      expect(policy).toMatchObject({ name: 'night shift', appId: null, userGroup: 'night' });
      expect(policy.effective.idleTimeoutMs).toBe(5 * MINUTE);
      expect(policy.effective.heartbeatMs).toBe(30_000);

      const read = await send('GET', `/v1/admin/policies/${policy.id}`);
      expect(policyReplySchema.parse(await read.json()).policy.settings).toEqual(nightShift.settings);
      const list = (await (await send('GET', '/v1/admin/policies')).json()) as { policies: unknown[] };
      expect(list.policies).toHaveLength(1);

      const replaced = await send('PUT', `/v1/admin/policies/${policy.id}`, {
        name: 'night shift',
        appId: 'shop-web',
        userGroup: 'night',
        settings: { heartbeatMs: 10_000 },
      });
      const after = policyReplySchema.parse(await replaced.json()).policy;
      expect(after.settings).toEqual({ heartbeatMs: 10_000 });
      expect(after.effective.idleTimeoutMs).toBe(30 * MINUTE);
      expect(after.createdAt).toBe(policy.createdAt);

      expect((await send('DELETE', `/v1/admin/policies/${policy.id}`)).status).toBe(200);
      expect((await send('GET', `/v1/admin/policies/${policy.id}`)).status).toBe(404);
      expect((await send('DELETE', `/v1/admin/policies/${policy.id}`)).status).toBe(404);
      const actions = (await collector.storage.admin.listAudit({ limit: 10, targetId: policy.id })).map(
        (entry) => entry.action,
      );
      expect(actions).toEqual(['policy.delete', 'policy.update', 'policy.create']);
    });

    it('invalid policy names the field', async () => {
      await send('POST', '/v1/admin/policies', nightShift);
      const cases: Array<[unknown, Array<string | number>, RegExp]> = [
        [{ name: 'x' }, ['appId'], /must match an appId, a userGroup or both/],
        [{ ...nightShift, name: 'other' }, ['appId'], /"night shift" .* already matches this appId and userGroup/],
        [{ ...nightShift, userGroup: 'day' }, ['name'], /must be unique/],
        [{ name: 'fast', appId: 'shop', settings: { idleTimeoutMs: 10 } }, ['settings', 'idleTimeoutMs'], /from 1000/],
        [
          { name: 'fast', appId: 'shop', settings: { idleTimeoutMs: 30_000 } },
          ['settings', 'warningMs'],
          /must be less than idleTimeoutMs \(30000\), received 60000 \(inherited from the defaults\)/,
        ],
        [{ name: 'bad app', appId: 'shop web' }, ['appId'], /must be 1 to 64 characters/],
      ];

      for (const [body, path, message] of cases) {
        const response = await send('POST', '/v1/admin/policies', body);
        expect(response.status, JSON.stringify(body)).toBe(400);
        const error = errorBodySchema.parse(await response.json());
        expect(error.code, JSON.stringify(body)).toBe('invalid_request');
        expect(error.issues?.[0]?.path, JSON.stringify(body)).toEqual(path);
        expect(error.message, JSON.stringify(body)).toMatch(message);
      }
    });

    it('settings that break a policy rejected', async () => {
      await send('POST', '/v1/admin/policies', { name: 'short', appId: 'shop-web', settings: { idleTimeoutMs: 90_000 } });

      const response = await send('PUT', '/v1/admin/settings', { warningMs: 120_000 });

      expect(response.status).toBe(400);
      const error = errorBodySchema.parse(await response.json());
      expect(error.issues?.[0]?.path).toEqual(['warningMs']);
      expect(error.message).toMatch(/must be less than idleTimeoutMs \(90000\), received 120000 under policy "short"/);
    });

    it('session runs under matching policy', async () => {
      const created = await send('POST', '/v1/admin/policies', {
        name: 'shop',
        appId: 'shop-web',
        settings: { idleTimeoutMs: 10 * MINUTE },
      });
      const { policy } = policyReplySchema.parse(await created.json());

      const reply = batchReplySchema.parse(await (await startSession('session-0001')).json());
      const blog = batchReplySchema.parse(
        await (await startSession('session-0002', { appId: 'blog' })).json(),
      );

      expect(reply.session.policy.idleTimeoutMs).toBe(10 * MINUTE);
      expect((await collector.storage.getSession('session-0001'))?.policyId).toBe(policy.id);
      expect(blog.session.policy.idleTimeoutMs).toBe(30 * MINUTE);
      expect((await collector.storage.getSession('session-0002'))?.policyId).toBeNull();
    });

    it('new policy reaches live sessions', async () => {
      await startSession('session-0001', { userGroup: 'night' });
      const states = subscribe('session-0001');

      const created = await send('POST', '/v1/admin/policies', nightShift);
      const { policy, liveSessions } = policyReplySchema.parse(await created.json());
      expect(liveSessions).toBe(1);
      expect(states.at(-1)?.policy.idleTimeoutMs).toBe(5 * MINUTE);
      expect((await collector.storage.getSession('session-0001'))?.policyId).toBe(policy.id);

      await send('DELETE', `/v1/admin/policies/${policy.id}`);
      expect(states.at(-1)?.policy.idleTimeoutMs).toBe(30 * MINUTE);
      expect((await collector.storage.getSession('session-0001'))?.policyId).toBeNull();
    });

    it('policy can switch one app off', async () => {
      await send('POST', '/v1/admin/policies', { name: 'paused', appId: 'blog', settings: { enabled: false } });

      const blog = await startSession('session-0001', { appId: 'blog' });
      const shop = await startSession('session-0002');

      expect(blog.status).toBe(403);
      expect(errorBodySchema.parse(await blog.json()).code).toBe('tracking_disabled');
      expect(shop.status).toBe(200);
    });

    it('resolve reports policy and values', async () => {
      const app = policyReplySchema.parse(
        await (await send('POST', '/v1/admin/policies', { name: 'shop', appId: 'shop-web', settings: { maxTabs: 3 } })).json(),
      ).policy;
      const group = policyReplySchema.parse(await (await send('POST', '/v1/admin/policies', nightShift)).json()).policy;
      await send('PUT', '/v1/admin/user-groups/user-7', { userGroup: 'night' });

      const resolve = async (query: string) =>
        resolveReplySchema.parse(await (await send('GET', `/v1/admin/policies/resolve?${query}`)).json());

      expect(await resolve('appId=shop-web')).toMatchObject({
        policy: { id: app.id, name: 'shop' },
        matchedBy: 'app',
        settings: { maxTabs: 3, idleTimeoutMs: 30 * MINUTE },
      });
      expect(await resolve('appId=shop-web&userGroup=night')).toMatchObject({
        policy: { id: group.id },
        matchedBy: 'group',
        settings: { maxTabs: null, idleTimeoutMs: 5 * MINUTE },
      });
      expect(await resolve('appId=shop-web&userId=user-7&userGroup=day')).toMatchObject({
        policy: { id: group.id },
        userGroup: 'night',
      });
      expect(await resolve('appId=blog')).toMatchObject({ policy: null, matchedBy: 'default' });
      const missing = await send('GET', '/v1/admin/policies/resolve');
      expect(missing.status).toBe(400);
      expect(errorBodySchema.parse(await missing.json()).message).toMatch(/^Query parameter appId/);
    });

    it('user group map changes policy', async () => {
      await send('POST', '/v1/admin/policies', nightShift);
      await startSession('session-0001', { userId: 'user-7' });
      const states = subscribe('session-0001');

      const set = await send('PUT', '/v1/admin/user-groups/user-7', { userGroup: 'night' });
      expect(set.status).toBe(200);
      expect(states.at(-1)?.policy.idleTimeoutMs).toBe(5 * MINUTE);
      const list = await (await send('GET', '/v1/admin/user-groups')).json();
      expect(list).toEqual({ userGroups: [{ userId: 'user-7', userGroup: 'night' }] });

      await send('DELETE', '/v1/admin/user-groups/user-7');
      expect(states.at(-1)?.policy.idleTimeoutMs).toBe(30 * MINUTE);
      const audit = await collector.storage.admin.listAudit({ limit: 10, targetId: 'user-7' });
      expect(audit.map((entry) => entry.action)).toEqual(['user_group.delete', 'user_group.set']);
    });
  });
});
