import { createHash, createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DuckDBInstance, LIST, listValue, VARCHAR } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { batchSchema, type BatchInput } from '../../../shared/src/index.js';
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
import { openStorage } from '../storage/index.js';
import { truncateAddress } from './client-network.js';

const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
const USER = 'user-erase-0001';
const OTHER_USER = 'user-keep-0001';
/** The user's first browser: a signed-in session and the anonymous visit before it. */
const CLIENT_A = 'client-erase-a';
/** The user's second browser, with a session that is live when the erasure starts. */
const CLIENT_B = 'client-erase-b';
const SIGNED_IN = 'session-erase-signed-in';
const ANONYMOUS = 'session-erase-anonymous';
const LIVE = 'session-erase-live';
const KEPT = 'session-keep-0001';
const RAW_ADDRESS = '203.0.113.77';

/** A row of the table scan: a table and column that still contain one of the searched ids. */
interface Finding {
  table: string;
  column: string;
  id: string;
}

/**
 * Opens the database file and searches every column of every table, cast to
 * text, for each id. Returns the tables scanned and every hit.
 */
async function scanEveryTable(path: string, ids: string[]) {
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  const columns = await connection.runAndReadAll(
    `SELECT c.table_name, c.column_name
     FROM information_schema.columns AS c
     JOIN duckdb_tables() AS t ON t.table_name = c.table_name AND t.schema_name = c.table_schema
     WHERE NOT t.temporary
     ORDER BY c.table_name, c.ordinal_position`,
  );

  const tables = new Set<string>();
  const findings: Finding[] = [];
  for (const row of columns.getRowObjectsJS()) {
    const table = String(row.table_name);
    const column = String(row.column_name);
    tables.add(table);
    const hits = await connection.runAndReadAll(
      `SELECT DISTINCT needles.needle FROM "${table}", (SELECT unnest($ids) AS needle) AS needles
       WHERE contains(CAST("${table}"."${column}" AS VARCHAR), needles.needle)`,
      { ids: listValue(ids) },
      { ids: LIST(VARCHAR) },
    );
    for (const hit of hits.getRowObjectsJS()) findings.push({ table, column, id: String(hit.needle) });
  }

  connection.closeSync();
  instance.closeSync();
  return { tables: [...tables], findings };
}

describe('user data routes', () => {
  let collector: TestCollector;

  beforeEach(async () => {
    collector = await createTestCollector();
  });

  afterEach(async () => {
    await collector.cleanup();
  });

  async function ingest(input: BatchInput, address = RAW_ADDRESS): Promise<void> {
    const result = await collector.service.ingest(batchSchema.parse(input), truncateAddress(address));
    expect(result.status).toBe('stored');
  }

  /** Stores the user's three sessions, another user's session and the rows that name them. */
  async function seedUser(): Promise<void> {
    const base = { tabId: 'tab-erase-0001' };
    await ingest(batchOf([activity('event-anon-0001', T0 - 5000)], { ...base, sessionId: ANONYMOUS, clientId: CLIENT_A }));
    await ingest(
      batchOf([activity('event-signed-0001', T0 - 4000), activity('event-signed-0002', T0 - 3000)], {
        ...base,
        sessionId: SIGNED_IN,
        clientId: CLIENT_A,
        userId: USER,
      }),
    );
    await ingest(batchOf([activity('event-live-0001', T0 - 2000)], { ...base, sessionId: LIVE, clientId: CLIENT_B, userId: USER }));
    await ingest(
      batchOf([activity('event-keep-0001', T0 - 1000)], { sessionId: KEPT, clientId: 'client-keep', userId: OTHER_USER }),
    );

    const group = await collector.app.request(`/v1/admin/user-groups/${USER}`, {
      method: 'PUT',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ userGroup: 'staff' }),
    });
    expect(group.status).toBe(200);

    const terminate = await collector.app.request(`/v1/admin/sessions/${SIGNED_IN}/terminate`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: `asked by ${USER}` }),
    });
    expect(terminate.status).toBe(200);

    // Another user's audit entry that names the erased session, as an eviction would.
    await collector.storage.admin.appendAudit({
      createdAt: T0,
      actorName: 'system',
      actorRole: 'system',
      action: 'session.end',
      targetType: 'session',
      targetId: KEPT,
      reason: 'evicted',
      details: { evictedBy: SIGNED_IN },
    });

    // A batch with the wrong client id is rejected and lands in the integration log.
    const mismatch = await postBatch(
      collector.app,
      batchOf([activity('event-wrong-0001', T0)], { sessionId: LIVE, clientId: 'client-forged', userId: USER }),
    );
    expect(mismatch.status).toBe(403);
    await collector.storage.admin.flushIngestErrors();
  }

  it('export returns every table’s rows', async () => {
    await seedUser();

    const response = await collector.app.request(`/v1/admin/users/${USER}/export`, { headers: admin });
    const body = await response.json();

    expect(response.status).toBe(200);
    expect(body.userId).toBe(USER);
    expect(body.userGroup).toBe('staff');
    expect(body.sessions.map((row: { id: string }) => row.id).sort()).toEqual([ANONYMOUS, LIVE, SIGNED_IN].sort());
    expect(body.events.map((row: { id: string }) => row.id).sort()).toEqual([
      'event-anon-0001',
      'event-live-0001',
      'event-signed-0001',
      'event-signed-0002',
    ]);
    expect(body.events[0].data).toEqual({ kind: 'pointer', count: 1 });
    expect(body.sessions[0].clientNetwork).toBe('203.0.113.0');
    const actions = body.audit.map((entry: { action: string }) => entry.action);
    expect(actions).toContain('user_group.set');
    expect(actions).toContain('session.terminate');
    expect(body.audit.some((entry: { targetId: string }) => entry.targetId === KEPT)).toBe(true);
    expect(body.ingestErrors).toHaveLength(1);
    expect(body.ingestErrors[0].sessionId).toBe(LIVE);
  });

  it('export of unknown user empty', async () => {
    const response = await collector.app.request('/v1/admin/users/user-unknown/export', { headers: admin });

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      sessions: [],
      events: [],
      userGroup: null,
      audit: [],
      ingestErrors: [],
    });
  });

  it('erase leaves no trace in any table', async () => {
    await seedUser();

    const response = await collector.app.request(`/v1/admin/users/${USER}`, { method: 'DELETE', headers: admin });
    const body = await response.json();

    expect(response.status).toBe(200);
    expect(body.endedSessions).toBe(1);
    expect(body.erased).toMatchObject({ sessions: 3, events: 4, userGroups: 1, auditRedacted: 1, ingestErrors: 1 });
    expect(body.erased.auditDeleted).toBeGreaterThanOrEqual(3);

    const [erasure] = await collector.storage.admin.listAudit({ limit: 1, action: 'user.erase' });
    const key = (await readFile(join(dirname(collector.storage.path), 'erasure-key'), 'utf8')).trim();
    const hmac = createHmac('sha256', key).update(USER).digest('hex');
    expect(erasure?.targetId).toBeNull();
    expect(erasure?.details).toMatchObject({ userIdHmac: hmac, sessions: 3, events: 4 });
    expect(JSON.stringify(erasure?.details)).not.toContain(createHash('sha256').update(USER).digest('hex'));
    expect(collector.service.policies.groupOf(USER)).toBeUndefined();

    const path = collector.storage.path;
    await collector.storage.close();
    const ids = [USER, SIGNED_IN, ANONYMOUS, LIVE, CLIENT_A, CLIENT_B, RAW_ADDRESS];
    const { tables, findings } = await scanEveryTable(path, ids);

    expect(tables).toEqual(expect.arrayContaining(['sessions', 'events', 'audit_log', 'user_groups', 'ingest_errors']));
    expect(findings).toEqual([]);
    const otherUser = await scanEveryTable(path, [OTHER_USER, KEPT, '[erased]']);
    expect(otherUser.findings).toContainEqual({ table: 'sessions', column: 'user_id', id: OTHER_USER });
    expect(otherUser.findings).toContainEqual({ table: 'audit_log', column: 'details', id: '[erased]' });
  });

  it('erasures route confirms an erasure', async () => {
    await seedUser();
    await collector.app.request(`/v1/admin/users/${USER}`, { method: 'DELETE', headers: admin });

    const erased = await collector.app.request(`/v1/admin/users/${USER}/erasures`, { headers: admin });
    const other = await collector.app.request(`/v1/admin/users/${OTHER_USER}/erasures`, { headers: admin });
    const erasedBody = await erased.json();

    expect(erased.status).toBe(200);
    expect(erasedBody.userId).toBe(USER);
    expect(erasedBody.erasures).toHaveLength(1);
    expect(erasedBody.erasures[0]).toMatchObject({
      action: 'user.erase',
      targetType: 'user',
      targetId: null,
      actor: { role: 'admin' },
      details: { sessions: 3, events: 4 },
    });
    expect(await other.json()).toEqual({ userId: OTHER_USER, erasures: [] });
  });

  it('erasures route finds unkeyed entries', async () => {
    const sha256 = createHash('sha256').update(USER).digest('hex');
    await collector.storage.admin.appendAudit({
      createdAt: T0,
      actorName: 'admin',
      actorRole: 'admin',
      action: 'user.erase',
      targetType: 'user',
      targetId: null,
      reason: null,
      details: { userIdSha256: sha256, sessions: 1 },
    });

    const response = await collector.app.request(`/v1/admin/users/${USER}/erasures`, { headers: admin });
    const body = await response.json();

    expect(body.erasures).toHaveLength(1);
    expect(body.erasures[0].details).toEqual({ userIdSha256: sha256, sessions: 1 });
  });

  it('erasures route needs the admin role', async () => {
    const response = await collector.app.request(`/v1/admin/users/${USER}/erasures`, {
      headers: { authorization: `Bearer ${TEST_ANALYST_TOKEN}` },
    });

    expect(response.status).toBe(403);
  });

  it('erase of unknown user deletes nothing', async () => {
    const response = await collector.app.request('/v1/admin/users/user-unknown', {
      method: 'DELETE',
      headers: admin,
    });
    const body = await response.json();

    expect(response.status).toBe(200);
    expect(body).toMatchObject({ endedSessions: 0 });
    expect(body.erased).toEqual({
      events: 0,
      sessions: 0,
      userGroups: 0,
      auditDeleted: 0,
      auditRedacted: 0,
      ingestErrors: 0,
    });
  });

  it('late batch of erased session rejected', async () => {
    await seedUser();
    await collector.app.request(`/v1/admin/users/${USER}`, { method: 'DELETE', headers: admin });

    const late = await postBatch(
      collector.app,
      batchOf([activity('event-late-0001', T0 + 1000)], { sessionId: ANONYMOUS, clientId: CLIENT_A }),
    );

    expect(late.status).toBe(410);
    expect(await collector.storage.getSession(ANONYMOUS)).toBeUndefined();
    expect(await collector.storage.listEvents(ANONYMOUS)).toEqual([]);
    await collector.storage.admin.flushIngestErrors();
    const logged = await collector.storage.admin.listIngestErrors({ limit: 100 });
    expect(logged.filter((row) => row.sessionId === ANONYMOUS)).toEqual([]);
  });

  it('erased sessions rejected after restart', async () => {
    await seedUser();
    await collector.app.request(`/v1/admin/users/${USER}`, { method: 'DELETE', headers: admin });
    await collector.storage.close();

    // A new storage has none of the erased ids in memory, only the table.
    const reopened = await openStorage(collector.config.databasePath);
    const sessionIds = [SIGNED_IN, ANONYMOUS, LIVE, KEPT, 'session-never-seen'];
    const erased = await reopened
      .transact({ sessionIds: [], eventIds: [], apply: (view) => sessionIds.map((id) => view.isErased(id)) })
      .finally(() => reopened.close());
    const instance = await DuckDBInstance.create(collector.config.databasePath);
    const reader = await (await instance.connect()).runAndReadAll('SELECT session_hmac FROM erased_sessions');
    const stored = reader.getRowsJS().map(([hmac]) => String(hmac));
    instance.closeSync();

    expect(erased).toEqual([true, true, true, false, false]);
    expect(stored).toHaveLength(3);
    expect(stored.filter((hmac) => !/^[0-9a-f]{64}$/.test(hmac))).toEqual([]);
  });

  it('stores network, never raw address', async () => {
    const response = await collector.app.request(
      '/v1/events',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(batchOf([activity('event-addr-0001', T0)], { sessionId: 'session-address-1' })),
      },
      { incoming: { socket: { remoteAddress: RAW_ADDRESS, remoteFamily: 'IPv4' } } },
    );
    expect(response.status).toBe(200);
    const session = await collector.storage.getSession('session-address-1');
    expect(session?.clientNetwork).toBe('203.0.113.0');

    const path = collector.storage.path;
    await collector.storage.close();
    const { findings } = await scanEveryTable(path, [RAW_ADDRESS]);
    expect(findings).toEqual([]);
  });

  it('routes require admin role', async () => {
    const analyst = { authorization: `Bearer ${TEST_ANALYST_TOKEN}` };
    const requests: Array<[string, string]> = [
      ['GET', `/v1/admin/users/${USER}/export`],
      ['DELETE', `/v1/admin/users/${USER}`],
    ];

    for (const [method, path] of requests) {
      expect((await collector.app.request(path, { method })).status, path).toBe(401);
      expect((await collector.app.request(path, { method, headers: analyst })).status, path).toBe(403);
    }
  });
});
