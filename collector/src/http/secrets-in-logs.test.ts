import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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

const ADMIN = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

describe('tokens in logs', () => {
  let collector: TestCollector;

  beforeEach(async () => {
    collector = await createTestCollector();
    collector.clock.set(T0 + 60_000);
  });

  afterEach(async () => {
    await collector.cleanup();
  });

  /** Sends requests that carry the tokens in every place a client might put them. */
  async function sendTokensEverywhere(): Promise<number[]> {
    const { app } = collector;
    const login = (token: string) =>
      app.request('/console/login', {
        method: 'POST',
        headers: {
          origin: 'http://localhost',
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token, next: '' }).toString(),
      });
    const responses = [
      await app.request('/v1/admin/sessions', { headers: ADMIN }),
      await app.request('/v1/admin/audit?action=x', { headers: ADMIN }),
      await app.request(`/v1/admin/sessions?token=${TEST_ADMIN_TOKEN}`),
      await app.request(`/v1/admin/sessions/${TEST_ADMIN_TOKEN}`, { headers: ADMIN }),
      await app.request('/v1/admin/settings', {
        headers: { authorization: `Bearer ${TEST_ANALYST_TOKEN}` },
      }),
      await app.request('/v1/analytics/summary', {
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}x` },
      }),
      await login(TEST_ADMIN_TOKEN),
      await login(`${TEST_ADMIN_TOKEN}-wrong`),
      await postBatch(app, batchOf([activity('event-0001', T0)], { userId: TEST_ADMIN_TOKEN }), {
        'content-type': 'application/json',
        ...ADMIN,
      }),
      await postBatch(app, `{"token":"${TEST_ADMIN_TOKEN}"`, { 'content-type': 'text/plain' }),
    ];
    return responses.map((response) => response.status);
  }

  it('token never in log lines', async () => {
    const statuses = await sendTokensEverywhere();

    expect(statuses.every((status) => status < 500)).toBe(true);
    expect(collector.logLines.length).toBeGreaterThanOrEqual(statuses.length);
    for (const line of collector.logLines) {
      expect(line).not.toContain(TEST_ADMIN_TOKEN);
      expect(line).not.toContain(TEST_ANALYST_TOKEN);
    }
  });

  it('token never in stored logs', async () => {
    await sendTokensEverywhere();

    const audit = await collector.app.request('/v1/admin/audit?limit=100', { headers: ADMIN });
    const errors = await collector.app.request('/v1/admin/ingest-errors?limit=100', {
      headers: ADMIN,
    });

    expect(audit.status).toBe(200);
    expect(errors.status).toBe(200);
    expect(await audit.text()).not.toContain(TEST_ADMIN_TOKEN);
    expect(await errors.text()).not.toContain(TEST_ADMIN_TOKEN);
  });

  it('failed request logs no token', async () => {
    await collector.storage.close();

    const response = await collector.app.request(`/v1/admin/sessions/${TEST_ADMIN_TOKEN}`, {
      headers: ADMIN,
    });

    expect(response.status).toBe(500);
    const failure = collector.logLines.find((line) => line.includes('request handler failed'));
    expect(failure).toBeDefined();
    expect(failure).toContain('"path":"/v1/admin/sessions/[token]"');
    for (const line of collector.logLines) expect(line).not.toContain(TEST_ADMIN_TOKEN);
  });
});
