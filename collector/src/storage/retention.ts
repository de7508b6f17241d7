import type { DuckDBConnection } from '@duckdb/node-api';

/** Rows `purgeExpiredData` deleted, by table. */
export interface PurgeCounts {
  events: number;
  sessions: number;
  auditLog: number;
  ingestErrors: number;
}

/**
 * Audit targets that name a person: a session, a user or a user's group
 * mapping. Entries about settings and policies are configuration history and
 * are kept.
 */
const PERSONAL_AUDIT_TARGETS = "('session', 'user', 'user_group')";

/**
 * Deletes the per-session and per-user rows older than `cutoff` (epoch ms),
 * inside the caller's transaction. These are events received before it,
 * sessions that ended before it with their remaining events, and audit
 * entries about sessions and users and ingest errors created before it. A
 * live session is kept whatever its age, but its events older than the
 * cutoff are deleted all the same, while its counters keep their totals.
 */
export async function purgeExpiredData(
  connection: DuckDBConnection,
  cutoff: number,
): Promise<PurgeCounts> {
  const run = async (sql: string) => (await connection.run(sql, { cutoff })).rowsChanged;

  return {
    events: await run(
      `DELETE FROM events
       WHERE received_at < $cutoff
          OR session_id IN (SELECT id FROM sessions WHERE ended_at < $cutoff)`,
    ),
    sessions: await run('DELETE FROM sessions WHERE ended_at < $cutoff'),
    auditLog: await run(
      `DELETE FROM audit_log
       WHERE created_at < $cutoff AND target_type IN ${PERSONAL_AUDIT_TARGETS}`,
    ),
    ingestErrors: await run('DELETE FROM ingest_errors WHERE created_at < $cutoff'),
  };
}
