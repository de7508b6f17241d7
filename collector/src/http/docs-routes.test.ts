import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCollector, TEST_ADMIN_TOKEN, type TestCollector } from '../test-harness.js';
import { toOpenApiPath } from './api-docs.js';

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Record<string, unknown>>>;
}

describe('API docs', () => {
  let collector: TestCollector;
  let document: OpenApiDocument;

  beforeAll(async () => {
    collector = await createTestCollector();
    document = (await (await collector.app.request('/openapi.json')).json()) as OpenApiDocument;
  });

  afterAll(async () => {
    await collector.cleanup();
  });

  it('large bodies gzipped on request', async () => {
    const plain = await collector.app.request('/openapi.json');
    const zipped = await collector.app.request('/openapi.json', {
      headers: { 'accept-encoding': 'gzip' },
    });

    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    expect(zipped.headers.get('vary')).toMatch(/accept-encoding/i);
    const bytes = Buffer.from(await zipped.arrayBuffer());
    expect(bytes.length).toBeLessThan((await plain.clone().text()).length / 5);
    expect(JSON.parse(gunzipSync(bytes).toString('utf8'))).toEqual(await plain.json());
  });

  it('console pages not compressed', async () => {
    const response = await collector.app.request('/console/login', {
      headers: { 'accept-encoding': 'gzip' },
    });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-encoding')).toBeNull();
  });

  it('openapi lists every authorized route', () => {
    expect(document.openapi).toBe('3.1.0');
    const authorized = collector.app.routes.filter(
      (route) => route.method !== 'ALL' && /^\/v1\/(admin|analytics)(\/|$)/.test(route.path),
    );
    const analytics = authorized.filter((route) => route.path.startsWith('/v1/analytics'));
    expect(analytics.length).toBeGreaterThanOrEqual(10);
    expect(authorized.length).toBeGreaterThanOrEqual(28);
    for (const route of authorized) {
      const operation = document.paths[toOpenApiPath(route.path)]?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${route.path}`).toBeDefined();
      expect(operation?.security, `${route.method} ${route.path}`).toEqual([{ bearer: [] }]);
      expect(operation?.responses, `${route.method} ${route.path}`).toHaveProperty('401');
      expect(operation?.responses, `${route.method} ${route.path}`).toHaveProperty('429');
      expect(operation?.responses, `${route.method} ${route.path}`).toHaveProperty('503');
    }
  });

  it('openapi documents report parameters', () => {
    const report = document.paths['/v1/analytics/sessions']?.get as {
      parameters: Array<{ name: string; description?: string }>;
    };
    const names = report.parameters.map((parameter) => parameter.name);

    expect(names).toEqual([
      'from',
      'to',
      'interval',
      'timeZone',
      'appId',
      'policyId',
      'userGroup',
      'format',
    ]);
    expect(report.parameters[0]?.description).toMatch(/^Start: epoch ms/);
    expect(document.paths['/v1/admin/live']?.get).toMatchObject({ 'x-required-role': 'admin' });
  });

  it('openapi lists input error replies', async () => {
    const statuses = (path: string, method: string) =>
      Object.keys(document.paths[path]?.[method]?.responses ?? {});

    expect(statuses('/v1/admin/users/{userId}', 'delete')).toContain('404');
    expect(statuses('/v1/admin/users/{userId}/erasures', 'get')).toContain('404');
    expect(statuses('/v1/admin/settings', 'put')).toEqual(
      expect.arrayContaining(['400', '413', '415']),
    );
    expect(statuses('/v1/admin/settings', 'get')).not.toContain('415');
    const tooLong = await collector.app.request(`/v1/admin/users/${'u'.repeat(257)}/erasures`, {
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    expect(tooLong.status).toBe(404);
  });

  it('openapi schemas come from validators', () => {
    const settings = document.paths['/v1/admin/settings']?.put?.requestBody as {
      content: { 'application/json': { schema: { properties: Record<string, unknown>; additionalProperties: boolean } } };
    };
    const schema = settings.content['application/json'].schema;

    expect(schema.properties.idleTimeoutMs).toEqual({ type: 'integer', minimum: 1000, maximum: 604_800_000 });
    expect(schema.properties.sessionLimitBehavior).toMatchObject({ enum: ['reject', 'terminate_oldest'] });
    expect(schema.additionalProperties).toBe(false);
    const events = document.paths['/v1/events']?.post as { requestBody: unknown; responses: Record<string, unknown> };
    expect(JSON.stringify(events.requestBody)).toContain('"sessionId"');
    expect(Object.keys(events.responses)).toEqual(expect.arrayContaining(['200', '403', '409', '410']));
    const list = document.paths['/v1/admin/sessions']?.get as { parameters: Array<{ name: string; in: string }> };
    expect(list.parameters.map((parameter) => parameter.name)).toEqual([
      'state',
      'appId',
      'userId',
      'limit',
      'cursor',
    ]);
  });

  it('docs page served from own origin', async () => {
    const response = await collector.app.request('/docs');
    const text = await response.text();

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(text).toContain('<code>/v1/admin/sessions/:id/terminate</code>');
    expect(text).toContain('href="/openapi.json"');
    expect(text).not.toMatch(/<script|<link|src="http/);
  });

  it('docs page renders code spans', async () => {
    const text = await (await collector.app.request('/docs')).text();

    expect(text).toContain('a stable <code>code</code>, a <code>message</code>');
    expect(text).not.toContain('`code`');
  });
});
