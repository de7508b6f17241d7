import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, runMigrations } from './migrations.js';
import { openStorage, type Storage } from './index.js';
import { eventRowFixture, sessionRowFixture } from './test-fixtures.js';

/** Runs one query on the database file with a connection of its own; the file must be closed. */
async function query(path: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  const rows = (await connection.runAndReadAll(sql)).getRowObjectsJS();
  connection.closeSync();
  instance.closeSync();
  return rows;
}

describe('live event ids', () => {
  let dir: string;
  let path: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'live-event-ids-'));
    path = join(dir, 'collector.duckdb');
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function storeSession(storage: Storage, id: string, eventIds: string[], isEnded = false) {
    const session = sessionRowFixture({ id, endedAt: isEnded ? 1_700_000_001_000 : null });
    await storage.transact({
      sessionIds: [],
      eventIds: [],
      apply: (view) => {
        view.putSession(session);
        for (const eventId of eventIds) view.addEvent(eventRowFixture({ id: eventId, sessionId: id }));
      },
    });
  }

  /** Opens the file and returns which of `ids` the write view finds as stored events of their session. */
  async function findStored(pairs: [sessionId: string, id: string][]): Promise<boolean[]> {
    const storage = await openStorage(path);
    try {
      return await storage.transact({
        sessionIds: [],
        eventIds: pairs.map(([, id]) => id),
        apply: (view) => pairs.map(([sessionId, id]) => view.hasEvent(sessionId, id)),
      });
    } finally {
      await storage.close();
    }
  }

  it('restart finds ids of live sessions only', async () => {
    const storage = await openStorage(path);
    await storeSession(storage, 'session-live', ['event-live-1', 'event-live-2']);
    await storeSession(storage, 'session-ends', ['event-ends-1']);
    const ended = { ...(await storage.getSession('session-ends'))!, endedAt: 1_700_000_002_000 };
    await storage.transact({ sessionIds: [], eventIds: [], apply: (view) => view.putSession(ended) });
    await storage.close();

    const isStored = await findStored([
      ['session-live', 'event-live-1'],
      ['session-live', 'event-live-2'],
      ['session-ends', 'event-ends-1'],
      ['session-live', 'event-new'],
    ]);
    const events = await query(path, 'SELECT id FROM events ORDER BY id');
    expect(isStored).toEqual([true, true, false, false]);
    expect(events.map((row) => row.id)).toEqual(['event-ends-1', 'event-live-1', 'event-live-2']);
  });

  it('id of another session not a duplicate, after restart too', async () => {
    const first = await openStorage(path);
    await storeSession(first, 'session-one', ['event-shared-1']);
    await storeSession(first, 'session-two', ['event-shared-1']);
    const beforeRestart = await first.transact({
      sessionIds: [],
      eventIds: ['event-shared-1'],
      apply: (view) => ['session-one', 'session-two', 'session-three'].map((id) => view.hasEvent(id, 'event-shared-1')),
    });
    await first.close();

    const afterRestart = await findStored([
      ['session-one', 'event-shared-1'],
      ['session-two', 'event-shared-1'],
      ['session-three', 'event-shared-1'],
    ]);
    const events = await query(path, "SELECT session_id FROM events WHERE id = 'event-shared-1' ORDER BY 1");
    expect(beforeRestart).toEqual([true, true, false]);
    expect(afterRestart).toEqual([true, true, false]);
    expect(events.map((row) => row.session_id)).toEqual(['session-one', 'session-two']);
  });

  it('duplicate of live session detected', async () => {
    const first = await openStorage(path);
    await storeSession(first, 'session-live', ['event-live-1']);
    await first.close();

    // A fresh storage has empty caches, so only the key can find the stored id.
    const second = await openStorage(path);
    const isStored = await second.transact({
      sessionIds: [],
      eventIds: ['event-live-1', 'event-live-2'],
      apply: (view) => {
        const flags = ['event-live-1', 'event-live-2'].map((id) => view.hasEvent('session-live', id));
        for (const id of ['event-live-1', 'event-live-2']) {
          if (!view.hasEvent('session-live', id)) view.addEvent(eventRowFixture({ id, sessionId: 'session-live' }));
        }
        return flags;
      },
    });
    await second.close();

    expect(isStored).toEqual([true, false]);
    const events = await query(path, "SELECT count(*) AS n FROM events WHERE id = 'event-live-1'");
    expect(Number(events[0]?.n)).toBe(1);
  });

  it('migrations drop the event keys', async () => {
    const instance = await DuckDBInstance.create(path);
    const connection = await instance.connect();
    await runMigrations(connection, MIGRATIONS.filter((migration) => migration.version < 5));
    const columns = '(id, app_id, client_id, started_at, last_activity_at, last_seen_at, ended_at, ' +
      'tabs_now, max_tabs, interactions, page_views, engaged_ms, idle_ms, event_count, ' +
      'idle_timeout_ms, absolute_timeout_ms, created_at, updated_at)';
    await connection.run(`
      INSERT INTO sessions ${columns} VALUES
        ('session-live', 'app', 'client', 0, 0, 0, NULL, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        ('session-ended', 'app', 'client', 0, 0, 0, 5, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0);
      INSERT INTO events VALUES
        ('event-1', 'session-live', 'tab', 'app', 'activity', 1, 1, 1, '{}'),
        ('event-2', 'session-ended', 'tab', 'app', 'activity', 2, 2, 2, NULL);
    `);
    connection.closeSync();
    instance.closeSync();

    const isStored = await findStored([
      ['session-live', 'event-1'],
      ['session-ended', 'event-2'],
    ]);

    const events = await query(path, 'SELECT id, data FROM events ORDER BY id');
    const constraints = await query(
      path,
      "SELECT count(*) AS n FROM duckdb_constraints() WHERE table_name = 'events' AND constraint_type = 'PRIMARY KEY'",
    );
    const tables = await query(path, "SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'live_event_ids'");
    expect(isStored).toEqual([true, false]);
    expect(events).toEqual([
      { id: 'event-1', data: '{}' },
      { id: 'event-2', data: null },
    ]);
    expect(Number(constraints[0]?.n)).toBe(0);
    expect(Number(tables[0]?.n)).toBe(0);
  });
});
