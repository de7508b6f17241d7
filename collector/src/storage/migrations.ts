import type { DuckDBConnection } from '@duckdb/node-api';
import { toNumber } from './rows.js';

/** One schema change, applied once in its own transaction. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Schema history; append new migrations, never edit an applied one.
 * Every timestamp column is BIGINT epoch milliseconds (UTC), which avoids
 * time zone conversions and converts to a JS number without loss.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create sessions, events and settings',
    sql: `
      CREATE TABLE sessions (
        id VARCHAR PRIMARY KEY,
        app_id VARCHAR NOT NULL,
        client_id VARCHAR NOT NULL,
        user_id VARCHAR,
        user_group VARCHAR,
        started_at BIGINT NOT NULL,
        last_activity_at BIGINT NOT NULL,
        last_seen_at BIGINT NOT NULL,
        ended_at BIGINT,
        end_reason VARCHAR,
        end_note VARCHAR,
        tabs_now INTEGER NOT NULL,
        max_tabs INTEGER NOT NULL,
        interactions BIGINT NOT NULL,
        page_views INTEGER NOT NULL,
        engaged_ms BIGINT NOT NULL,
        idle_ms BIGINT NOT NULL,
        event_count INTEGER NOT NULL,
        idle_timeout_ms BIGINT NOT NULL,
        absolute_timeout_ms BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE TABLE events (
        id VARCHAR PRIMARY KEY,
        session_id VARCHAR NOT NULL,
        tab_id VARCHAR NOT NULL,
        app_id VARCHAR NOT NULL,
        type VARCHAR NOT NULL,
        client_ts BIGINT NOT NULL,
        ts BIGINT NOT NULL,
        received_at BIGINT NOT NULL,
        data JSON
      );
      CREATE TABLE settings (
        key VARCHAR PRIMARY KEY,
        value JSON NOT NULL,
        updated_at BIGINT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'add policies, audit log, ingest errors and user groups',
    sql: `
      ALTER TABLE sessions ADD COLUMN policy_id VARCHAR;
      ALTER TABLE sessions ADD COLUMN tab_last_seen JSON;
      CREATE TABLE policies (
        id VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL,
        app_id VARCHAR,
        user_group VARCHAR,
        overrides JSON NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE TABLE audit_log (
        seq BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        actor_name VARCHAR NOT NULL,
        actor_role VARCHAR NOT NULL,
        action VARCHAR NOT NULL,
        target_type VARCHAR NOT NULL,
        target_id VARCHAR,
        reason VARCHAR,
        details JSON
      );
      CREATE TABLE ingest_errors (
        seq BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        status INTEGER NOT NULL,
        code VARCHAR NOT NULL,
        message VARCHAR NOT NULL,
        app_id VARCHAR,
        session_id VARCHAR,
        origin VARCHAR,
        request_id VARCHAR
      );
      CREATE TABLE user_groups (
        user_id VARCHAR PRIMARY KEY,
        user_group VARCHAR NOT NULL,
        updated_at BIGINT NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'count interactions by input kind per session',
    sql: `
      ALTER TABLE sessions ADD COLUMN interactions_pointer BIGINT DEFAULT 0;
      ALTER TABLE sessions ADD COLUMN interactions_key BIGINT DEFAULT 0;
      ALTER TABLE sessions ADD COLUMN interactions_scroll BIGINT DEFAULT 0;
      ALTER TABLE sessions ADD COLUMN interactions_touch BIGINT DEFAULT 0;
      ALTER TABLE sessions ADD COLUMN interactions_visibility BIGINT DEFAULT 0;
      ALTER TABLE sessions ADD COLUMN interactions_focus BIGINT DEFAULT 0;
    `,
  },
  {
    version: 4,
    name: 'store the truncated client network of each session',
    sql: `
      ALTER TABLE sessions ADD COLUMN client_network VARCHAR;
    `,
  },
  {
    // DuckDB keeps a primary key index in memory and cannot evict it, so the
    // old key on events.id grew memory by about 95 bytes per stored event.
    // Only a live session accepts events, so only its event ids need a key.
    version: 5,
    name: 'key only the event ids of live sessions',
    sql: `
      CREATE TABLE live_event_ids (
        id VARCHAR PRIMARY KEY,
        session_id VARCHAR NOT NULL
      );
      INSERT INTO live_event_ids
        SELECT e.id, e.session_id FROM events AS e JOIN sessions AS s ON s.id = e.session_id
        WHERE s.ended_at IS NULL;
      CREATE TABLE events_without_key (
        id VARCHAR NOT NULL,
        session_id VARCHAR NOT NULL,
        tab_id VARCHAR NOT NULL,
        app_id VARCHAR NOT NULL,
        type VARCHAR NOT NULL,
        client_ts BIGINT NOT NULL,
        ts BIGINT NOT NULL,
        received_at BIGINT NOT NULL,
        data JSON
      );
      INSERT INTO events_without_key SELECT * FROM events;
      DROP TABLE events;
      ALTER TABLE events_without_key RENAME TO events;
    `,
  },
  {
    // The collector keeps these ids in memory and finds resent events there,
    // so the key only cost every load an index update.
    version: 6,
    name: 'drop the key of live event ids',
    sql: `
      CREATE TABLE live_event_ids_without_key (
        id VARCHAR NOT NULL,
        session_id VARCHAR NOT NULL
      );
      INSERT INTO live_event_ids_without_key SELECT id, session_id FROM live_event_ids;
      DROP TABLE live_event_ids;
      ALTER TABLE live_event_ids_without_key RENAME TO live_event_ids;
    `,
  },
  {
    // Committed with each load, so a segment a crash left behind after its
    // load is deleted at start-up rather than loaded twice.
    version: 7,
    name: 'record the last loaded ingest log segment',
    sql: `
      CREATE TABLE ingest_log_state (
        id INTEGER PRIMARY KEY,
        last_loaded_seq BIGINT NOT NULL
      );
      INSERT INTO ingest_log_state VALUES (1, 0);
    `,
  },
  {
    // The collector reads the event ids of live sessions from `events` at
    // start-up. Keeping them in a table of their own cost every load an insert,
    // every ended session a delete, and DuckDB memory that grew with both.
    version: 8,
    name: 'drop the table of live event ids',
    sql: `
      DROP TABLE live_event_ids;
    `,
  },
  {
    // An HMAC of each erased session id under the erasure key, so that a late
    // batch of an erased session cannot create it again after a restart.
    version: 9,
    name: 'remember erased sessions',
    sql: `
      CREATE TABLE erased_sessions (
        session_hmac VARCHAR NOT NULL,
        erased_at BIGINT NOT NULL
      );
    `,
  },
];

/**
 * Applies every migration newer than the database's latest version, each in
 * one transaction, and returns the versions applied by this call.
 */
export async function runMigrations(
  connection: DuckDBConnection,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  await connection.run(`
    CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name VARCHAR NOT NULL,
      applied_at BIGINT NOT NULL
    )
  `);
  const reader = await connection.runAndReadAll(
    'SELECT coalesce(max(version), 0) AS version FROM schema_migrations',
  );
  const current = toNumber(reader.getRowObjectsJS()[0]?.version);

  const applied: number[] = [];
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    await applyMigration(connection, migration);
    applied.push(migration.version);
  }
  return applied;
}

async function applyMigration(connection: DuckDBConnection, migration: Migration): Promise<void> {
  await connection.run('BEGIN TRANSACTION');
  try {
    await connection.run(migration.sql);
    await connection.run(
      'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($version, $name, $appliedAt)',
      { version: migration.version, name: migration.name, appliedAt: BigInt(Date.now()) },
    );
    await connection.run('COMMIT');
  } catch (error) {
    await connection.run('ROLLBACK').catch(() => {});
    throw new Error(`migration ${migration.version} (${migration.name}) failed`, { cause: error });
  }
}
