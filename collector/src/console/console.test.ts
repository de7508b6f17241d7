import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sessionRowFixture } from '../storage/test-fixtures.js';
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

const ORIGIN = 'http://localhost';
const XSS_USER_ID = '<img src=x onerror=alert(1)>';

interface SignedIn {
  cookie: string;
  csrf: string;
}

describe('admin console', () => {
  let collector: TestCollector;

  beforeEach(async () => {
    collector = await createTestCollector();
    collector.clock.set(T0 + 60_000);
  });

  afterEach(async () => {
    await collector.cleanup();
  });

  function request(path: string, init: RequestInit & { cookie?: string } = {}) {
    const headers = new Headers(init.headers);
    if (init.cookie) headers.set('cookie', init.cookie);
    return collector.app.request(path, { ...init, headers });
  }

  function postForm(
    path: string,
    fields: Record<string, string>,
    cookie?: string,
    origin = ORIGIN,
  ) {
    return request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
      body: new URLSearchParams(fields).toString(),
      ...(cookie ? { cookie } : {}),
    });
  }

  async function signIn(token: string): Promise<SignedIn> {
    const response = await postForm('/console/login', { token, next: '' });
    expect(response.status).toBe(303);
    const setCookie = response.headers.get('set-cookie') ?? '';
    const cookie = setCookie.split(';')[0]!;
    const page = await (await request('/console/reports', { cookie })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    return { cookie, csrf };
  }

  it('login rejects unknown token', async () => {
    const response = await postForm('/console/login', { token: 'not-a-configured-token-000' });

    expect(response.status).toBe(401);
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(await response.text()).toContain('The token is not valid');
  });

  it('login cookie is strict and opaque', async () => {
    const response = await postForm('/console/login', { token: TEST_ADMIN_TOKEN });

    const setCookie = response.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^ps_console=[A-Za-z0-9_-]{43};/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/console');
    expect(setCookie).not.toContain('Secure');
    expect(setCookie).not.toContain(TEST_ADMIN_TOKEN);
    expect(response.headers.get('location')).toBe('/console/live');
  });

  it('login cookie secure over https', async () => {
    const response = await collector.app.request('https://console.example/console/login', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'https://console.example',
      },
      body: new URLSearchParams({ token: TEST_ANALYST_TOKEN }).toString(),
    });

    expect(response.headers.get('set-cookie')).toContain('Secure');
    expect(response.headers.get('location')).toBe('/console/reports');
  });

  it.each([
    { trustProxy: '0', isSecure: false },
    { trustProxy: '1', isSecure: true },
  ])('forwarded https cookie with TRUST_PROXY=$trustProxy', async ({ trustProxy, isSecure }) => {
    const proxied = await createTestCollector({ env: { TRUST_PROXY: trustProxy } });
    try {
      const response = await proxied.app.request('/console/login', {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          origin: ORIGIN,
          'x-forwarded-proto': 'https',
        },
        body: new URLSearchParams({ token: TEST_ANALYST_TOKEN }).toString(),
      });

      expect(response.status).toBe(303);
      expect(response.headers.get('set-cookie')?.includes('Secure')).toBe(isSecure);
    } finally {
      await proxied.cleanup();
    }
  });

  it('login from other origin rejected', async () => {
    const response = await postForm(
      '/console/login',
      { token: TEST_ADMIN_TOKEN },
      undefined,
      'https://evil.example',
    );

    expect(response.status).toBe(403);
    expect(response.headers.get('set-cookie')).toBeNull();
  });

  it('pages redirect without sign-in', async () => {
    for (const path of ['/console/live', '/console/reports', '/console/settings']) {
      const response = await request(path);
      expect(response.status, path).toBe(303);
      expect(response.headers.get('location'), path).toBe(
        `/console/login?next=${encodeURIComponent(path)}`,
      );
    }
  });

  it.each([
    ['/console/settings', '/console/settings'],
    ['/console/../v1/admin/sessions', '/console/live'],
    ['/console/./live', '/console/live'],
    ['//evil.example/console', '/console/live'],
    ['https://evil.example/console', '/console/live'],
  ])('sign-in with next %s lands on %s', async (next, landing) => {
    const response = await postForm('/console/login', { token: TEST_ADMIN_TOKEN, next });

    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe(landing);
  });

  it('analyst limited to reports', async () => {
    const analyst = await signIn(TEST_ANALYST_TOKEN);

    expect((await request('/console/reports', { cookie: analyst.cookie })).status).toBe(200);
    expect((await request('/console/live', { cookie: analyst.cookie })).status).toBe(403);
    expect((await request('/console/settings', { cookie: analyst.cookie })).status).toBe(403);
    const terminate = await postForm(
      '/console/live/terminate',
      { _csrf: analyst.csrf, sessionId: 'session-0001' },
      analyst.cookie,
    );
    expect(terminate.status).toBe(403);
  });

  it('user id renders as text', async () => {
    await collector.storage.transact({
      sessionIds: [],
      eventIds: [],
      apply: (view) =>
        view.putSession(
          sessionRowFixture({ id: 'session-xss-01', userId: XSS_USER_ID, appId: 'app"><b>x' }),
        ),
    });
    const admin = await signIn(TEST_ADMIN_TOKEN);

    const live = await (await request('/console/live', { cookie: admin.cookie })).text();
    const confirm = await (
      await request(`/console/live/terminate?userId=${encodeURIComponent(XSS_USER_ID)}`, {
        cookie: admin.cookie,
      })
    ).text();

    for (const page of [live, confirm]) {
      expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
      expect(page).not.toContain('<img src=x');
    }
    expect(live).not.toContain('<b>x');
  });

  it('pages send strict security headers', async () => {
    const response = await request('/console/login');

    const policy = response.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('terminate confirmation warns of disruption', async () => {
    const admin = await signIn(TEST_ADMIN_TOKEN);

    const page = await (
      await request('/console/live/terminate?sessionId=session-0001', { cookie: admin.cookie })
    ).text();

    expect(page).toContain('disrupts the user&#39;s work');
    expect(page).toContain('name="sessionId" value="session-0001"');
  });

  it('terminate needs csrf token', async () => {
    await postBatch(collector.app, batchOf([activity('event-0001', T0)]));
    const admin = await signIn(TEST_ADMIN_TOKEN);

    const missing = await postForm(
      '/console/live/terminate',
      { sessionId: 'session-0001' },
      admin.cookie,
    );
    const crossSite = await postForm(
      '/console/live/terminate',
      { _csrf: admin.csrf, sessionId: 'session-0001' },
      admin.cookie,
      'https://evil.example',
    );

    expect(missing.status).toBe(403);
    expect(crossSite.status).toBe(403);
    expect((await collector.storage.getSession('session-0001'))?.endedAt).toBeNull();
  });

  it('terminate ends the session', async () => {
    await postBatch(collector.app, batchOf([activity('event-0001', T0)]));
    const admin = await signIn(TEST_ADMIN_TOKEN);

    const response = await postForm(
      '/console/live/terminate',
      { _csrf: admin.csrf, sessionId: 'session-0001', reason: 'security review' },
      admin.cookie,
    );

    expect(response.status).toBe(303);
    const session = await collector.storage.getSession('session-0001');
    expect(session?.endReason).toBe('terminated');
    const page = await (await request('/console/live', { cookie: admin.cookie })).text();
    expect(page).toContain('Terminated session session-0001.');
  });

  it('settings rejects invalid timeout', async () => {
    const admin = await signIn(TEST_ADMIN_TOKEN);

    const response = await postForm(
      '/console/settings',
      {
        _csrf: admin.csrf,
        enabled: 'on',
        idleTimeoutMinutes: 'soon',
        absoluteTimeoutHours: '12',
        maxSessionsPerUser: '',
        sessionLimitBehavior: 'reject',
      },
      admin.cookie,
    );

    expect(response.status).toBe(400);
    const page = await response.text();
    expect(page).toContain('Enter a number of minutes from 0.0167 to 10080, received');
    expect(page).toContain('received &quot;soon&quot;');
    expect(page).toContain(
      'id="idleTimeoutMinutes" name="idleTimeoutMinutes" inputmode="decimal" value="soon" aria-invalid="true"',
    );
  });

  it('settings form marks every invalid field', async () => {
    const admin = await signIn(TEST_ADMIN_TOKEN);

    const response = await postForm(
      '/console/settings',
      {
        _csrf: admin.csrf,
        idleTimeoutMinutes: '-5',
        absoluteTimeoutHours: '12',
        maxSessionsPerUser: 'abc',
        sessionLimitBehavior: 'deny',
      },
      admin.cookie,
    );

    expect(response.status).toBe(400);
    const page = await response.text();
    expect(page).toContain('Settings not saved: fix the fields marked below.');
    expect(page).toMatch(/id="idleTimeoutMinutes"[^>]*aria-invalid="true"/);
    expect(page).toMatch(/id="maxSessionsPerUser"[^>]*aria-invalid="true"/);
    expect(page).toMatch(/id="sessionLimitBehavior"[^>]*aria-invalid="true"/);
    expect(page).not.toMatch(/id="absoluteTimeoutHours"[^>]*aria-invalid="true"/);
    expect(page).toContain('received &quot;abc&quot;');
    expect(page).toContain('Choose reject or terminate_oldest.');
  });

  it('settings save through admin api', async () => {
    const admin = await signIn(TEST_ADMIN_TOKEN);
    const form = {
      _csrf: admin.csrf,
      idleTimeoutMinutes: '20',
      absoluteTimeoutHours: '8',
      maxSessionsPerUser: '3',
      sessionLimitBehavior: 'terminate_oldest',
    };

    const saved = await postForm('/console/settings', form, admin.cookie);
    const conflict = await postForm(
      '/console/settings',
      { ...form, idleTimeoutMinutes: '0.5' },
      admin.cookie,
    );

    expect(saved.status).toBe(303);
    const settings = (await (
      await request('/v1/admin/settings', {
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      })
    ).json()) as { settings: Record<string, unknown> };
    expect(settings.settings).toMatchObject({
      enabled: false,
      idleTimeoutMs: 20 * 60_000,
      absoluteTimeoutMs: 8 * 3_600_000,
      maxSessionsPerUser: 3,
      sessionLimitBehavior: 'terminate_oldest',
    });
    expect(conflict.status).toBe(400);
    const conflictPage = await conflict.text();
    expect(conflictPage).toContain('Settings not saved: ');
    expect(conflictPage).toMatch(/id="idleTimeoutMinutes"[^>]*aria-invalid="true"/);
    expect(conflictPage).toContain('Enter more than 1 minute: the idle warning (WARNING_MS)');
    const page = await (
      await request('/console/settings?saved=1', { cookie: admin.cookie })
    ).text();
    expect(page).toContain('Settings saved.');
    expect(page).toContain('value="20"');
    expect(page).not.toMatch(/name="enabled"[^>]*checked/);
  });

  it('reports page embeds chart specs', async () => {
    await postBatch(collector.app, batchOf([activity('event-0001', T0)]));
    const analyst = await signIn(TEST_ANALYST_TOKEN);

    const page = await (
      await request('/console/reports?from=2023-11-14&to=2023-11-14', { cookie: analyst.cookie })
    ).text();

    expect(page.match(/<canvas /g)).toHaveLength(12);
    expect(page).toContain('src="/console/assets/chart.umd.min.js"');
    expect(page).toContain('href="/console/reports/sessions.csv?from=2023-11-14&amp;to=2023-11-14');
  });

  it('reports csv download works', async () => {
    await postBatch(collector.app, batchOf([activity('event-0001', T0)]));
    const analyst = await signIn(TEST_ANALYST_TOKEN);

    const response = await request('/console/reports/sessions.csv?from=2023-11-14&to=2023-11-14', {
      cookie: analyst.cookie,
    });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/csv');
    expect(response.headers.get('content-disposition')).toContain(
      'filename="sessions-2023-11-14-2023-11-14.csv"',
    );
    const lines = (await response.text()).trim().split('\r\n');
    expect(lines[0]).toBe('bucket_start,bucket,sessions,uniqueUsers,newUsers,returningUsers');
    expect(lines[1]).toBe('2023-11-14T00:00:00.000Z,2023-11-14,1,1,1,0');
  });

  it('chart library served locally', async () => {
    const response = await request('/console/assets/chart.umd.min.js');

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('javascript');
    expect((await response.text()).length).toBeGreaterThan(100_000);
    expect((await request('/console/assets/..%2Fconsole-auth.ts')).status).toBe(404);
  });
});
