import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorBodySchema } from '../../../shared/src/index.js';
import {
  createTestCollector,
  TEST_ADMIN_TOKEN,
  TEST_ANALYST_TOKEN,
  type TestCollector,
} from '../test-harness.js';

describe('authorize', () => {
  let collector: TestCollector;

  beforeEach(async () => {
    collector = await createTestCollector({
      env: { API_TOKENS: 'ops:admin:ops-token-0123456789,bi:analyst:bi-token-0123456789' },
    });
  });

  afterEach(async () => {
    await collector.cleanup();
  });

  function get(path: string, token?: string) {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    return collector.app.request(path, { headers });
  }

  it('analyst reads analytics only', async () => {
    const analytics = await get('/v1/analytics/summary', TEST_ANALYST_TOKEN);
    const admin = await get('/v1/admin/sessions', TEST_ANALYST_TOKEN);

    expect(analytics.status).toBe(200);
    expect(admin.status).toBe(403);
    const body = errorBodySchema.parse(await admin.json());
    expect(body.code).toBe('forbidden');
    expect(body.message).toBe(
      'Token analyst has role analyst, but GET /v1/admin/sessions requires role admin',
    );
  });

  it('API_TOKENS roles applied', async () => {
    expect((await get('/v1/admin/sessions', 'ops-token-0123456789')).status).toBe(200);
    expect((await get('/v1/admin/sessions', 'bi-token-0123456789')).status).toBe(403);
    expect((await get('/v1/analytics/summary', 'bi-token-0123456789')).status).toBe(200);
    expect((await get('/v1/analytics/summary', TEST_ADMIN_TOKEN)).status).toBe(200);
  });

  it('unknown token gets 401', async () => {
    const response = await get('/v1/analytics/summary', 'not-a-token-0123456789');

    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="process-sessions"');
    expect(errorBodySchema.parse(await response.json()).code).toBe('unauthorized');
  });

  it('public routes need no token', async () => {
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/healthz', 'not-a-token-0123456789')).status).toBe(200);
  });
});
