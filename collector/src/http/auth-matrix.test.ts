import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

/** Values for path parameters, so each route reaches its handler. */
const PARAM_VALUES: Record<string, string> = { id: 'session-0001', userId: 'user-1' };

interface RouteCase {
  method: string;
  path: string;
  url: string;
}

describe('auth matrix over every route', () => {
  let collector: TestCollector;
  let adminRoutes: RouteCase[];
  let analyticsRoutes: RouteCase[];

  beforeAll(async () => {
    collector = await createTestCollector();
    collector.clock.set(T0 + 60_000);
    await postBatch(collector.app, batchOf([activity('event-0001', T0)], { userId: 'user-1' }));

    // Middleware registered with app.use shows up with method ALL; every other entry is a route.
    const routes = collector.app.routes
      .filter((route) => route.method !== 'ALL')
      .map((route) => ({
        method: route.method,
        path: route.path,
        url: route.path.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => PARAM_VALUES[name] ?? 'x-00000000'),
      }));
    const under = (prefix: string) => (route: RouteCase) =>
      route.path === prefix || route.path.startsWith(`${prefix}/`);
    adminRoutes = routes.filter(under('/v1/admin'));
    analyticsRoutes = routes.filter(under('/v1/analytics'));
  });

  afterAll(async () => {
    await collector.cleanup();
  });

  async function call(route: RouteCase, token?: string): Promise<number> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const hasBody = route.method === 'POST' || route.method === 'PUT';
    const response = await collector.app.request(route.url, {
      method: route.method,
      headers,
      ...(hasBody ? { body: '{}' } : {}),
    });
    // Streams (server-sent events) would stay open, so every body is cancelled.
    await response.body?.cancel();
    return response.status;
  }

  it('routes found under both prefixes', () => {
    const admin = adminRoutes.map((route) => `${route.method} ${route.path}`);

    expect(admin).toContain('GET /v1/admin/sessions');
    expect(admin).toContain('POST /v1/admin/sessions/:id/terminate');
    expect(admin).toContain('POST /v1/admin/users/:userId/sessions/terminate');
    expect(admin).toContain('PUT /v1/admin/settings');
    expect(admin).toContain('DELETE /v1/admin/policies/:id');
    expect(admin).toContain('GET /v1/admin/audit');
    expect(admin).toContain('GET /v1/admin/ingest-errors');
    expect(adminRoutes.length).toBeGreaterThanOrEqual(17);
    expect(analyticsRoutes.length).toBeGreaterThanOrEqual(1);
  });

  it('no token gets 401 everywhere', async () => {
    for (const route of [...adminRoutes, ...analyticsRoutes]) {
      expect(await call(route), `${route.method} ${route.path}`).toBe(401);
    }
  });

  it('analyst gets 403 on admin routes', async () => {
    for (const route of adminRoutes) {
      expect(await call(route, TEST_ANALYST_TOKEN), `${route.method} ${route.path}`).toBe(403);
    }
  });

  it('analyst reads every analytics route', async () => {
    for (const route of analyticsRoutes) {
      const status = await call(route, TEST_ANALYST_TOKEN);
      expect([401, 403], `${route.method} ${route.path} got ${status}`).not.toContain(status);
      expect(status, `${route.method} ${route.path}`).toBeLessThan(500);
    }
  });

  it('admin passes every route', async () => {
    for (const route of [...analyticsRoutes, ...adminRoutes]) {
      const status = await call(route, TEST_ADMIN_TOKEN);
      expect([401, 403], `${route.method} ${route.path} got ${status}`).not.toContain(status);
      expect(status, `${route.method} ${route.path}`).toBeLessThan(500);
    }
  });
});
