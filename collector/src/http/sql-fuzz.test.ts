import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPORT_NAMES } from '../analytics/reports.js';
import { toNumber } from '../storage/rows.js';
import {
  activity,
  batchOf,
  createTestCollector,
  postBatch,
  T0,
  TEST_ADMIN_TOKEN,
  type TestCollector,
} from '../test-harness.js';

/** Values that break SQL built by string concatenation, plus unicode and control characters. */
const PAYLOADS = [
  "'",
  "''",
  '"',
  '\\',
  "x' OR 1=1 --",
  "x' OR '1'='1",
  "'; DROP TABLE sessions; --",
  '1; DELETE FROM events',
  "' UNION SELECT * FROM audit_log --",
  '/* comment */',
  '-- ',
  '%',
  '_',
  '?',
  '$1',
  'NULL',
  '0x27',
  'ǘñï©ødé 𝌆 😀',
  "😀' OR ''='",
  '\u0000',
  '\u202e',
  'a'.repeat(3000),
];

const ADMIN = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

/** One fuzzed request. */
interface FuzzRequest {
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Builds a JSON body for a write route, with `payload` in its free-text fields. */
const BODIES: Record<string, (payload: string) => unknown> = {
  'post /v1/admin/sessions/{id}/terminate': (payload) => ({ reason: payload }),
  'post /v1/admin/users/{userId}/sessions/terminate': (payload) => ({
    reason: payload,
    appId: payload,
  }),
  'post /v1/admin/policies': (payload) => ({
    name: payload,
    appId: 'shop-web',
    userGroup: payload,
  }),
  'put /v1/admin/policies/{id}': (payload) => ({ name: payload, userGroup: payload }),
  'put /v1/admin/user-groups/{userId}': (payload) => ({ userGroup: payload }),
  'put /v1/admin/settings': () => ({}),
  'post /v1/events': (payload) =>
    batchOf(
      [
        {
          id: 'event-fuzz-0001',
          type: 'custom',
          ts: T0,
          data: { name: payload, props: { k: payload } },
        },
      ],
      { sessionId: 'session-fuzz-0001', userId: payload, userGroup: payload },
    ),
};

type OpenApi = {
  paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }> }>>;
};

/** Lists requests that put every payload into every path parameter, query parameter and body field. */
function buildRequests(document: OpenApi): FuzzRequest[] {
  const requests: FuzzRequest[] = [];
  for (const [template, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const body = BODIES[`${method} ${template}`];
      const query = (operation.parameters ?? []).filter((parameter) => parameter.in === 'query');
      for (const payload of PAYLOADS) {
        const path = template.replace(/\{\w+\}/g, encodeURIComponent(payload));
        requests.push({ method, path, body: body?.(payload) });
        for (const parameter of query) {
          const search = new URLSearchParams({ [parameter.name]: payload });
          const fillers = template.replace(/\{\w+\}/g, 'session-seed-0001');
          requests.push({ method, path: `${fillers}?${search}`, body: body?.('valid') });
        }
      }
    }
  }
  return requests;
}

/** Lists report and console requests, which the OpenAPI document does not describe. */
function buildReportRequests(consoleCookie: string): FuzzRequest[] {
  const names = ['appId', 'policyId', 'userGroup', 'from', 'to', 'timeZone', 'interval', 'format'];
  const paths = ['/v1/analytics', ...REPORT_NAMES.map((name) => `/v1/analytics/${name}`)];
  const requests: FuzzRequest[] = [];
  for (const payload of PAYLOADS) {
    for (const name of names) {
      const search = new URLSearchParams({ [name]: payload });
      for (const path of paths) requests.push({ method: 'get', path: `${path}?${search}` });
      for (const path of ['/console/reports', '/console/reports/sessions.csv']) {
        requests.push({
          method: 'get',
          path: `${path}?${search}`,
          headers: { cookie: consoleCookie },
        });
      }
    }
    const target = new URLSearchParams({ sessionId: payload, userId: payload });
    requests.push({
      method: 'get',
      path: `/console/live/terminate?${target}`,
      headers: { cookie: consoleCookie },
    });
    requests.push({ method: 'get', path: `/console/assets/${encodeURIComponent(payload)}` });
    requests.push({ method: 'get', path: `/v1/admin/live?appId=${encodeURIComponent(payload)}` });
  }
  return requests;
}

/** Reads every table's name and row count straight from the DuckDB file. */
async function readTables(path: string): Promise<Map<string, number>> {
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  try {
    const tables = await connection.runAndReadAll(
      'SELECT table_name FROM duckdb_tables() ORDER BY 1',
    );
    const counts = new Map<string, number>();
    for (const row of tables.getRowObjectsJS()) {
      const name = String(row.table_name);
      const count = await connection.runAndReadAll(`SELECT count(*) AS n FROM "${name}"`);
      counts.set(name, toNumber(count.getRowObjectsJS()[0]?.n));
    }
    return counts;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Reads the rows of one table by a text column, straight from the DuckDB file. */
async function readColumn(path: string, sql: string): Promise<string[]> {
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJS().map((row) => String(Object.values(row)[0]));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

describe('SQL fuzz of every route', () => {
  let collector: TestCollector;
  let before: Map<string, number>;
  let after: Map<string, number>;
  const failures: string[] = [];
  let requestCount = 0;
  const statuses = new Map<number, number>();

  beforeAll(async () => {
    collector = await createTestCollector();
    collector.clock.set(T0 + 60_000);
    const { app } = collector;

    // Seed rows in every table that the fuzz must leave alone.
    for (const id of ['session-seed-0001', 'session-seed-0002']) {
      const batch = batchOf([activity(`event-${id}`, T0)], { sessionId: id, userId: `user-${id}` });
      expect((await postBatch(app, batch)).status).toBe(200);
    }
    const policy = await app.request('/v1/admin/policies', {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'seed',
        appId: 'seed-app',
        settings: { idleTimeoutMs: 600_000 },
      }),
    });
    expect(policy.status).toBe(201);
    const group = await app.request('/v1/admin/user-groups/user-seed', {
      method: 'PUT',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      body: JSON.stringify({ userGroup: 'seed-group' }),
    });
    expect(group.status).toBe(200);
    await postBatch(app, '{');
    await collector.storage.admin.flushIngestErrors();
    before = await countThroughApp();

    const login = await app.request('/console/login', {
      method: 'POST',
      headers: { origin: 'http://localhost', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: TEST_ADMIN_TOKEN, next: '' }).toString(),
    });
    const consoleCookie = login.headers.get('set-cookie')?.split(';')[0] ?? '';
    expect(consoleCookie).toMatch(/^ps_console=/);

    const document = (await (await app.request('/openapi.json')).json()) as OpenApi;
    const requests = [...buildRequests(document), ...buildReportRequests(consoleCookie)];
    for (const request of requests) {
      const response = await app.request(request.path, {
        method: request.method.toUpperCase(),
        headers: {
          ...ADMIN,
          ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...request.headers,
        },
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
      });
      // A stream never ends by itself, so only its status counts.
      if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
        await response.body?.cancel();
      } else {
        await response.arrayBuffer();
      }
      requestCount += 1;
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      if (response.status >= 500)
        failures.push(`${request.method} ${request.path} -> ${response.status}`);
    }

    await collector.storage.close();
    after = await readTables(collector.config.databasePath);
  }, 300_000);

  afterAll(async () => {
    await collector.cleanup();
  });

  /** Counts seeded rows through the storage API before the fuzz, to compare with the file after. */
  async function countThroughApp(): Promise<Map<string, number>> {
    const sessions = await collector.storage.listSessions({ state: 'all', limit: 1000 });
    const events = await Promise.all(
      sessions.map((session) => collector.storage.listEvents(session.id)),
    );
    return new Map([
      ['sessions', sessions.length],
      ['events', events.flat().length],
    ]);
  }

  it('fuzz sent thousands of requests', () => {
    const succeeded = (statuses.get(200) ?? 0) + (statuses.get(201) ?? 0);

    expect(requestCount).toBeGreaterThan(2000);
    // Payloads that pass validation reach the SQL: quotes, comments and unicode are valid text.
    expect(succeeded).toBeGreaterThan(500);
  });

  it('no request failed with 5xx', () => {
    expect(failures).toEqual([]);
  });

  it('every table still present', async () => {
    const fresh = await createTestCollector();
    await fresh.storage.close();
    const expected = [...(await readTables(fresh.config.databasePath)).keys()];
    await fresh.cleanup();

    expect([...after.keys()]).toEqual(expected);
  });

  it('seeded rows survive the fuzz', async () => {
    const path = collector.config.databasePath;
    const sessions = await readColumn(
      path,
      "SELECT id FROM sessions WHERE id LIKE 'session-seed-%' ORDER BY id",
    );
    const events = await readColumn(
      path,
      "SELECT id FROM events WHERE id LIKE 'event-session-seed-%' ORDER BY id",
    );
    const policies = await readColumn(path, "SELECT name FROM policies WHERE name = 'seed'");
    const groups = await readColumn(
      path,
      "SELECT user_group FROM user_groups WHERE user_id = 'user-seed'",
    );

    expect(sessions).toEqual(['session-seed-0001', 'session-seed-0002']);
    expect(events).toEqual(['event-session-seed-0001', 'event-session-seed-0002']);
    expect(policies).toEqual(['seed']);
    expect(groups).toEqual(['seed-group']);
    expect(after.get('sessions')).toBeGreaterThanOrEqual(before.get('sessions')!);
    expect(after.get('events')).toBeGreaterThanOrEqual(before.get('events')!);
  });

  it('payloads stored as literal text', async () => {
    const path = collector.config.databasePath;
    const groups = await readColumn(
      path,
      'SELECT DISTINCT user_group FROM policies WHERE user_group IS NOT NULL',
    );
    const stored = new Set(groups);

    for (const payload of PAYLOADS.filter(
      (text) => !/[\u0000\u202e]/.test(text) && text.length <= 128,
    )) {
      expect(stored.has(payload), JSON.stringify(payload)).toBe(true);
    }
  });
});
