import { createHash, createHmac } from 'node:crypto';
import {
  type DuckDBConnection,
  type DuckDBValue,
  LIST,
  listValue,
  VARCHAR,
} from '@duckdb/node-api';
import {
  type AuditActor,
  type AuditRow,
  type IngestErrorRow,
  toAuditRow,
  toIngestErrorRow,
  toJsonObject,
} from './admin-rows.js';
import { type EventRow, type SessionRow, toEventRow, toSessionRow } from './rows.js';

/** Every row the collector stores about one user, as the export route returns it. */
export interface UserData {
  userId: string;
  /** The user's sessions, and the anonymous sessions of the same clients (browsers). */
  sessions: SessionRow[];
  /** Every event of those sessions, in timestamp order. */
  events: EventRow[];
  /** The group an admin mapped the user to, or null. */
  userGroup: string | null;
  /** Audit entries about the user or one of those sessions, or that name them. */
  audit: AuditRow[];
  /** Rejected ingest requests of those sessions, or whose message names them. */
  ingestErrors: IngestErrorRow[];
}

/** Counts of what `eraseUserData` deleted or redacted. */
export interface ErasureCounts {
  sessions: number;
  events: number;
  userGroups: number;
  auditDeleted: number;
  auditRedacted: number;
  ingestErrors: number;
}

/** Result of `eraseUserData`: the counts and the ids of the erased sessions. */
export interface Erasure {
  counts: ErasureCounts;
  sessionIds: string[];
  /** `hashSessionId` of each erased session id, as stored in `erased_sessions`. */
  sessionHmacs: string[];
}

/** Replaces an erased id inside a kept audit entry. */
const REDACTED = '[erased]';

/** The ids that identify a user: the user id, its session ids and its client ids. */
interface UserScope {
  userId: string;
  sessionIds: string[];
  clientIds: string[];
}

const LIST_TYPE = LIST(VARCHAR);

/**
 * Finds the user's sessions and client ids. An anonymous session (no user
 * id) of one of those clients belongs to the same person, often the visit
 * before they signed in, so it is in scope too. A session of another user on
 * a shared client is not.
 */
async function findScope(connection: DuckDBConnection, userId: string): Promise<UserScope> {
  const reader = await connection.runAndReadAll(
    `SELECT id, client_id, user_id FROM sessions
     WHERE user_id = $userId
        OR (user_id IS NULL
          AND client_id IN (SELECT client_id FROM sessions WHERE user_id = $userId))
     ORDER BY id`,
    { userId },
  );
  const rows = reader.getRowObjectsJS();
  const clientIds = rows.filter((row) => row.user_id !== null).map((row) => String(row.client_id));
  return {
    userId,
    sessionIds: rows.map((row) => String(row.id)),
    clientIds: [...new Set(clientIds)],
  };
}

/** Returns the values that bind the scope's ids as `$sessionIds`, `$quotedIds` and `$ids`. */
function scopeValues(scope: UserScope): {
  values: Record<string, DuckDBValue>;
  types: Record<string, typeof LIST_TYPE>;
} {
  const ids = [scope.userId, ...scope.sessionIds, ...scope.clientIds];
  return {
    values: {
      sessionIds: listValue(scope.sessionIds),
      // Ids as they appear in JSON text, quotes included, so `user-1` does not match `user-10`.
      quotedIds: listValue(ids.map((id) => JSON.stringify(id))),
      ids: listValue(ids),
    },
    types: { sessionIds: LIST_TYPE, quotedIds: LIST_TYPE, ids: LIST_TYPE },
  };
}

/** Keeps the values and types of the `$name` parameters that `sql` uses, as DuckDB rejects others. */
function bindUsed(
  sql: string,
  values: Record<string, DuckDBValue>,
  types: Record<string, typeof LIST_TYPE>,
): { values: Record<string, DuckDBValue>; types: Record<string, typeof LIST_TYPE> } {
  const isUsed = (name: string) => new RegExp(`\\$${name}\\b`).test(sql);
  return {
    values: Object.fromEntries(Object.entries(values).filter(([name]) => isUsed(name))),
    types: Object.fromEntries(Object.entries(types).filter(([name]) => isUsed(name))),
  };
}

/** Audit entries targeting the user or one of its sessions. */
const AUDIT_TARGETED = `
  ((target_type IN ('user', 'user_group') AND target_id = $userId)
    OR (target_type = 'session' AND target_id IN (SELECT unnest($sessionIds))))
`;

/** Audit entries that name one of the ids in their details or reason. */
const AUDIT_MENTIONING = `
  EXISTS (
    SELECT 1 FROM (SELECT unnest($quotedIds) AS needle)
    WHERE contains(CAST(audit_log.details AS VARCHAR), needle)
  )
  OR EXISTS (
    SELECT 1 FROM (SELECT unnest($ids) AS needle) WHERE contains(audit_log.reason, needle)
  )
`;

/** Ingest errors of one of the sessions, or whose message names one of the ids. */
const INGEST_ERRORS_OF_SCOPE = `
  session_id IN (SELECT unnest($sessionIds))
  OR EXISTS (
    SELECT 1 FROM (SELECT unnest($ids) AS needle) WHERE contains(ingest_errors.message, needle)
  )
`;

/** Reads every row about a user. Run it in one transaction for a consistent snapshot. */
export async function exportUserData(
  connection: DuckDBConnection,
  userId: string,
): Promise<UserData> {
  const scope = await findScope(connection, userId);
  const { values, types } = scopeValues(scope);
  const read = async (sql: string) => {
    const bound = bindUsed(sql, { ...values, userId }, types);
    const reader = await connection.runAndReadAll(sql, bound.values, bound.types);
    return reader.getRowObjectsJS();
  };

  const sessions = await read(
    'SELECT * FROM sessions WHERE id IN (SELECT unnest($sessionIds)) ORDER BY started_at, id',
  );
  const events = await read(
    'SELECT * FROM events WHERE session_id IN (SELECT unnest($sessionIds)) ORDER BY ts, id',
  );
  const groups = await read('SELECT user_group FROM user_groups WHERE user_id = $userId');
  const audit = await read(
    `SELECT * FROM audit_log WHERE ${AUDIT_TARGETED} OR ${AUDIT_MENTIONING} ORDER BY seq`,
  );
  const ingestErrors = await read(
    `SELECT * FROM ingest_errors WHERE ${INGEST_ERRORS_OF_SCOPE} ORDER BY seq`,
  );

  return {
    userId,
    sessions: sessions.map((row) => toSessionRow(row)),
    events: events.map((row) => toEventRow(row)),
    userGroup: groups[0] ? String(groups[0].user_group) : null,
    audit: audit.map((row) => toAuditRow(row)),
    ingestErrors: ingestErrors.map((row) => toIngestErrorRow(row)),
  };
}

/**
 * Name of the file, next to the DuckDB file, that stores the key of the user
 * id hashes in `user.erase` audit entries.
 */
export const ERASURE_KEY_FILE = 'erasure-key';

/**
 * Deletes every row about a user inside the caller's transaction: its
 * sessions and their events, its user group, the audit entries about it and
 * its ingest errors. Audit entries about someone else that name one of its
 * ids keep their place with the id replaced by `[erased]`. Then records one
 * `user.erase` audit entry that contains an HMAC-SHA-256 of the user id under
 * `erasure.key` and the counts, never the id itself.
 */
export async function eraseUserData(
  connection: DuckDBConnection,
  userId: string,
  erasure: { actor: AuditActor; createdAt: number; auditSeq: () => number; key: string },
): Promise<Erasure> {
  const scope = await findScope(connection, userId);
  const { values, types } = scopeValues(scope);
  const run = async (sql: string) => {
    const bound = bindUsed(sql, { ...values, userId }, types);
    const result = await connection.run(sql, bound.values, bound.types);
    return result.rowsChanged;
  };

  const counts: ErasureCounts = {
    events: await run('DELETE FROM events WHERE session_id IN (SELECT unnest($sessionIds))'),
    sessions: await run('DELETE FROM sessions WHERE id IN (SELECT unnest($sessionIds))'),
    userGroups: await run('DELETE FROM user_groups WHERE user_id = $userId'),
    auditDeleted: await run(`DELETE FROM audit_log WHERE ${AUDIT_TARGETED}`),
    auditRedacted: await redactAudit(connection, scope),
    ingestErrors: await run(`DELETE FROM ingest_errors WHERE ${INGEST_ERRORS_OF_SCOPE}`),
  };

  const sessionHmacs = scope.sessionIds.map((id) => hashSessionId(id, erasure.key));
  await connection.run(
    'INSERT INTO erased_sessions SELECT unnest($hmacs), $createdAt',
    { hmacs: listValue(sessionHmacs), createdAt: erasure.createdAt },
    { hmacs: LIST_TYPE },
  );

  const details = { userIdHmac: hashUserId(userId, erasure.key), ...counts };
  await connection.run(
    `INSERT INTO audit_log
     VALUES ($seq, $createdAt, $actorName, $actorRole, 'user.erase', 'user', NULL, NULL, $details)`,
    {
      seq: erasure.auditSeq(),
      createdAt: erasure.createdAt,
      actorName: erasure.actor.name,
      actorRole: erasure.actor.role,
      details: JSON.stringify(details),
    },
  );
  return { counts, sessionIds: scope.sessionIds, sessionHmacs };
}

/**
 * Returns the hex HMAC-SHA-256 under `key` of an erased session id, with a
 * prefix that keeps it apart from the user id hashes of the audit log.
 */
export function hashSessionId(sessionId: string, key: string): string {
  return createHmac('sha256', key).update(`session:${sessionId}`, 'utf8').digest('hex');
}

/** Returns the `hashSessionId` of every session erased so far. */
export async function readErasedSessionHmacs(connection: DuckDBConnection): Promise<string[]> {
  const reader = await connection.runAndReadAll('SELECT session_hmac FROM erased_sessions');
  return reader.getRowsJS().map(([hmac]) => String(hmac));
}

/**
 * Returns the hex HMAC-SHA-256 of a user id under `key`. An erasure can be
 * confirmed with the id and the key, but a guessed id cannot be checked
 * against a copy of the database without the key.
 */
export function hashUserId(userId: string, key: string): string {
  return createHmac('sha256', key).update(userId, 'utf8').digest('hex');
}

/**
 * Returns the `user.erase` audit entries of a user id, oldest first: those
 * with its HMAC under `key`, and those that older versions recorded with its
 * unkeyed SHA-256.
 */
export async function findErasures(
  connection: DuckDBConnection,
  userId: string,
  key: string,
): Promise<AuditRow[]> {
  const reader = await connection.runAndReadAll(
    `SELECT * FROM audit_log
     WHERE action = 'user.erase'
       AND (json_extract_string(details, '$.userIdHmac') = $hmac
         OR json_extract_string(details, '$.userIdSha256') = $sha256)
     ORDER BY seq`,
    {
      hmac: hashUserId(userId, key),
      sha256: createHash('sha256').update(userId, 'utf8').digest('hex'),
    },
  );
  return reader.getRowObjectsJS().map((row) => toAuditRow(row));
}

/** Replaces the scope's ids in the audit entries that name them and returns how many changed. */
async function redactAudit(connection: DuckDBConnection, scope: UserScope): Promise<number> {
  const sql = `SELECT seq, reason, details FROM audit_log WHERE ${AUDIT_MENTIONING}`;
  const { values, types } = bindUsed(sql, scopeValues(scope).values, scopeValues(scope).types);
  const reader = await connection.runAndReadAll(sql, values, types);

  const ids = new Set([scope.userId, ...scope.sessionIds, ...scope.clientIds]);
  const rows = reader.getRowObjectsJS();
  for (const row of rows) {
    const details = toJsonObject(row.details);
    const reason = row.reason === null ? null : redactText(String(row.reason), ids);
    const sql = 'UPDATE audit_log SET reason = $reason, details = $details WHERE seq = $seq';
    await connection.run(sql, {
      seq: row.seq as bigint,
      reason,
      details: details === null ? null : JSON.stringify(redactJson(details, ids)),
    });
  }
  return rows.length;
}

/** Replaces every string that equals one of `ids`, at any depth. */
function redactJson(value: unknown, ids: ReadonlySet<string>): unknown {
  if (typeof value === 'string') return ids.has(value) ? REDACTED : value;
  if (Array.isArray(value)) return value.map((item) => redactJson(item, ids));
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).map(([key, item]) => [key, redactJson(item, ids)]);
    return Object.fromEntries(entries);
  }
  return value;
}

/**
 * Replaces each occurrence of one of `ids` in free text, such as an admin's reason.
 * NOTE: a user id of one or two characters also matches inside unrelated words of the text.
 */
function redactText(text: string, ids: ReadonlySet<string>): string {
  let result = text;
  for (const id of ids) result = result.split(id).join(REDACTED);
  return result;
}
