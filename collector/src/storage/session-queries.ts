import type { DuckDBConnection } from '@duckdb/node-api';
import { type EventRow, type SessionRow, toEventRow, toSessionRow } from './rows.js';

/** Which sessions `listSessions` returns by state. */
export type SessionStateFilter = 'active' | 'ended' | 'all';

/** Position after the last session of a page, in the order of `listSessions`. */
export interface SessionCursor {
  startedAt: number;
  id: string;
}

/** Filters of `listSessions`. Sessions come newest start first, then by id descending. */
export interface SessionFilter {
  state: SessionStateFilter;
  appId?: string;
  userId?: string;
  limit: number;
  /** Only sessions after this position, for the next page. */
  after?: SessionCursor;
}

/**
 * Lists sessions by filter. The order is by `started_at`, which never changes
 * once a session exists, so a page cursor stays valid while sessions change.
 */
export async function listSessions(
  connection: DuckDBConnection,
  filter: SessionFilter,
): Promise<SessionRow[]> {
  const reader = await connection.runAndReadAll(
    `SELECT * FROM sessions
     WHERE ($state = 'all' OR ($state = 'active') = (ended_at IS NULL))
       AND ($appId IS NULL OR app_id = $appId)
       AND ($userId IS NULL OR user_id = $userId)
       AND ($afterStartedAt IS NULL
         OR started_at < $afterStartedAt
         OR (started_at = $afterStartedAt AND id < $afterId))
     ORDER BY started_at DESC, id DESC
     LIMIT $limit`,
    {
      state: filter.state,
      appId: filter.appId ?? null,
      userId: filter.userId ?? null,
      afterStartedAt: filter.after?.startedAt ?? null,
      afterId: filter.after?.id ?? null,
      limit: filter.limit,
    },
  );
  return reader.getRowObjectsJS().map((raw) => toSessionRow(raw));
}

/** Lists the latest `limit` events of a session, newest first. */
export async function listRecentEvents(
  connection: DuckDBConnection,
  sessionId: string,
  limit: number,
): Promise<EventRow[]> {
  const reader = await connection.runAndReadAll(
    'SELECT * FROM events WHERE session_id = $sessionId ORDER BY ts DESC, id DESC LIMIT $limit',
    { sessionId, limit },
  );
  return reader.getRowObjectsJS().map((raw) => toEventRow(raw));
}

/** Lists the ids of every live session. */
export async function listLiveSessionIds(connection: DuckDBConnection): Promise<string[]> {
  const reader = await connection.runAndReadAll(
    'SELECT id FROM sessions WHERE ended_at IS NULL ORDER BY id',
  );
  return reader.getRowObjectsJS().map((row) => String(row.id));
}
