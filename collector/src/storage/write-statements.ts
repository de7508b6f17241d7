import {
  type DuckDBAppender,
  type DuckDBConnection,
  type DuckDBPreparedStatement,
  LIST,
  listValue,
  VARCHAR,
} from '@duckdb/node-api';
import { AUDIT_COLUMNS, type AuditRow } from './admin-rows.js';
import type { LogSegment } from './ingest-log.js';
import {
  type ColumnKind,
  EVENT_COLUMNS,
  type EventRow,
  SESSION_COLUMNS,
  type SessionRow,
  toSessionRow,
} from './rows.js';

const STAGED_SESSIONS = 'staging_sessions';
const STAGED_EVENTS = 'staging_events';

/** SET list of the sessions upsert: every column but `id`, from the staged row. */
const SESSION_UPDATES = SESSION_COLUMNS.filter(([column]) => column !== 'id')
  .map(([column]) => `${column} = excluded.${column}`)
  .join(', ');

/**
 * SQL that writes the staged sessions into `sessions`, updating the stored
 * ones and inserting the rest, then empties their staging table. The
 * conflict clause finds stored rows through the primary key's index. An
 * `UPDATE ... FROM` and an `INSERT ... WHERE id NOT IN` scanned the whole
 * table instead, which doubled the CPU of a load at 2 million stored sessions.
 */
const UPSERT_SESSIONS_SQL = `
  INSERT INTO sessions SELECT * FROM ${STAGED_SESSIONS} ON CONFLICT (id) DO UPDATE SET ${SESSION_UPDATES};
  DELETE FROM ${STAGED_SESSIONS};
`;

/** SQL that copies the staged events into `events`, then empties their staging table. */
const INSERT_EVENTS_SQL = `
  INSERT INTO events SELECT * FROM ${STAGED_EVENTS};
  DELETE FROM ${STAGED_EVENTS};
`;

/**
 * SQL that reads the ids of the stored events of every session that has not
 * ended. Only such a session accepts events, so these are the ids a resent
 * event can repeat.
 */
const LIVE_EVENT_IDS_SQL = `
  SELECT session_id, id FROM events
  WHERE session_id NOT IN (SELECT id FROM sessions WHERE ended_at IS NOT NULL)
`;

const SQL_TYPES: Record<ColumnKind, string> = {
  text: 'VARCHAR',
  json: 'VARCHAR',
  integer: 'INTEGER',
  bigint: 'BIGINT',
};

/**
 * SQL that stages the events of one ingest log segment (`$path`), read by
 * DuckDB's JSON reader on its own threads. Event lines are flat `EventRow`
 * objects, and group lines, which have no `id`, are skipped.
 */
const STAGE_LOGGED_EVENTS_SQL = (() => {
  const fields = EVENT_COLUMNS.map(([, field, kind]) => `"${field}": '${SQL_TYPES[kind]}'`);
  const values = EVENT_COLUMNS.map(([, field]) => `"${field}"`);
  return `
    INSERT INTO ${STAGED_EVENTS}
    SELECT ${values.join(', ')}
    FROM read_json($path, format = 'newline_delimited', columns = {${fields.join(', ')}})
    WHERE "id" IS NOT NULL
  `;
})();

/** Commits the open transaction, empty or not, and begins the next one. */
const COMMIT_AND_BEGIN_SQL = 'COMMIT; BEGIN TRANSACTION;';

type AppenderName = 'sessions' | 'audit';

/** Appenders of the write connection, one a table. */
type Appenders = Record<AppenderName, DuckDBAppender>;

/**
 * The last line a write group appends to the ingest log, after one line per
 * event (an `EventRow`). It starts with `GROUP_LINE_PREFIX`.
 */
export interface GroupLine {
  group: true;
  /** Every session the group created or changed, as it is after the group. */
  sessions: SessionRow[];
  audit: AuditRow[];
}

/** Start of every group line, which no event line has. */
export const GROUP_LINE_PREFIX = '{"group":true,';

/** Returns the log text of a write group: its event lines, then its group line. */
export function formatGroup(events: Iterable<EventRow>, line: Omit<GroupLine, 'group'>): string {
  let text = '';
  for (const event of events) text += `${JSON.stringify(event)}\n`;
  const rest = JSON.stringify({ sessions: line.sessions, audit: line.audit });
  return `${text}${GROUP_LINE_PREFIX}${rest.slice(1)}\n`;
}

/**
 * Returns whether a line of an ingest log segment can load. An event line
 * passes when its fields have the types of their columns, and `data` is null
 * or JSON text because its column has type JSON. A group line passes with
 * `sessions` and `audit` arrays of objects. A line damaged on disk fails this
 * check, while a row that passes may still fail a constraint when it loads.
 */
export function isLoadableLine(line: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return false;
  }
  if (!isRecord(value)) return false;

  if (line.startsWith(GROUP_LINE_PREFIX)) {
    const { sessions, audit } = value;
    return [sessions, audit].every((rows) => Array.isArray(rows) && rows.every(isRecord));
  }
  return EVENT_COLUMNS.every(([, field, kind]) => {
    const fieldValue = value[field];
    if (field === 'data') return fieldValue === null || isJsonText(fieldValue);
    return kind === 'text' ? typeof fieldValue === 'string' : Number.isSafeInteger(fieldValue);
  });
}

function isJsonText(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    JSON.parse(value);
    return true;
  } catch {
    return false;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The rows of ingest log segments that a load writes besides their events. */
export interface LoadRows {
  /** The last state of each session the segments created or changed. */
  sessions: readonly SessionRow[];
  audit: readonly AuditRow[];
}

/**
 * The SQL of the write connection, which always has a transaction open: the
 * next one begins with the previous one's COMMIT. It loads ingest log
 * segments into the tables and runs the queries the write queue needs.
 * Sessions and audit entries come from memory through appenders, because an
 * appender's flush joins the open transaction. Events come from the segment
 * files through DuckDB's JSON reader, because appending them value by value
 * from JS cost about 3.5 us per event on the main thread (measured with
 * 500-event groups), which the reader spends on DuckDB's threads. Staging
 * tables are per connection and vanish with it, so a crash leaves no staged
 * rows behind.
 *
 * Only this connection writes `sessions` and `events`, so the snapshot of an
 * open transaction is never stale for them. Work that reads tables other
 * connections write starts a fresh transaction first (`runInTransaction`).
 */
export class WriteStatements {
  readonly #connection: DuckDBConnection;
  readonly #loadSessions: DuckDBPreparedStatement;
  readonly #loadUserSessions: DuckDBPreparedStatement;
  readonly #appenders: Appenders;

  private constructor(
    connection: DuckDBConnection,
    statements: Record<'sessions' | 'userSessions', DuckDBPreparedStatement>,
    appenders: Appenders,
  ) {
    this.#connection = connection;
    this.#loadSessions = statements.sessions;
    this.#loadUserSessions = statements.userSessions;
    this.#appenders = appenders;
  }

  /**
   * Creates the staging tables and appenders of the write connection and
   * prepares the session queries of write groups on `groupReader`, a
   * connection of their own, because they run while a load uses the write
   * connection.
   */
  static async create(
    connection: DuckDBConnection,
    groupReader: DuckDBConnection,
  ): Promise<WriteStatements> {
    await connection.run(
      `CREATE TEMP TABLE ${STAGED_SESSIONS} AS SELECT * FROM sessions WITH NO DATA`,
    );
    await connection.run(`CREATE TEMP TABLE ${STAGED_EVENTS} AS SELECT * FROM events WITH NO DATA`);
    const statements = {
      sessions: await groupReader.prepare('SELECT * FROM sessions WHERE id IN (SELECT unnest($1))'),
      userSessions: await groupReader.prepare(
        'SELECT * FROM sessions WHERE ended_at IS NULL AND user_id IN (SELECT unnest($1))',
      ),
    };
    const appenders = {
      sessions: await connection.createAppender(STAGED_SESSIONS, 'main', 'temp'),
      audit: await connection.createAppender('audit_log'),
    };
    await connection.run('BEGIN TRANSACTION');
    return new WriteStatements(connection, statements, appenders);
  }

  /** Loads the committed sessions with the given ids, leaving out ids that do not exist. */
  async loadSessions(ids: readonly string[]): Promise<SessionRow[]> {
    if (ids.length === 0) return [];
    this.#loadSessions.bindList(1, listValue([...ids]), LIST(VARCHAR));
    const reader = await this.#loadSessions.runAndReadAll();
    return reader.getRowObjectsJS().map((raw) => toSessionRow(raw));
  }

  /** Loads the committed live sessions of the given user ids. */
  async loadLiveSessionsOfUsers(userIds: readonly string[]): Promise<SessionRow[]> {
    if (userIds.length === 0) return [];
    this.#loadUserSessions.bindList(1, listValue([...userIds]), LIST(VARCHAR));
    const reader = await this.#loadUserSessions.runAndReadAll();
    return reader.getRowObjectsJS().map((raw) => toSessionRow(raw));
  }

  /** Loads the ids of the stored events of sessions that have not ended. */
  async loadLiveEventIds(): Promise<Array<{ sessionId: string; id: string }>> {
    const reader = await this.#connection.runAndReadAll(LIVE_EVENT_IDS_SQL);
    return reader.getRowsJS().map(([sessionId, id]) => ({ sessionId: String(sessionId), id: String(id) }));
  }

  /** Returns the sequence number of the last ingest log segment a load committed. */
  async readLastLoadedSeq(): Promise<number> {
    const reader = await this.#connection.runAndReadAll(
      'SELECT last_loaded_seq FROM ingest_log_state WHERE id = 1',
    );
    return Number(reader.getRowsJS()[0]?.[0] ?? 0);
  }

  /**
   * Writes ingest log segments (in order) with the sessions and audit entries
   * of their lines, records the last one as loaded and commits. Throws when
   * any write fails, and then leaves the transaction for `rollback`.
   */
  async loadLog(segments: readonly LogSegment[], rows: LoadRows): Promise<void> {
    for (const segment of segments) {
      await this.#connection.run(STAGE_LOGGED_EVENTS_SQL, { path: segment.path });
    }
    append(this.#appenders.sessions, SESSION_COLUMNS, rows.sessions);
    append(this.#appenders.audit, AUDIT_COLUMNS, rows.audit);

    const lastSeq = Math.max(0, ...segments.map((segment) => segment.seq));
    await this.#connection.run(
      'UPDATE ingest_log_state SET last_loaded_seq = greatest(last_loaded_seq, $seq) WHERE id = 1',
      { seq: lastSeq },
    );
    const sql = [
      INSERT_EVENTS_SQL,
      rows.sessions.length > 0 ? UPSERT_SESSIONS_SQL : '',
      COMMIT_AND_BEGIN_SQL,
    ];
    await this.#connection.run(sql.join(''));
  }

  /**
   * Rolls back a failed `loadLog`, which also empties the staging tables,
   * and begins the next transaction.
   */
  async rollback(): Promise<void> {
    // A failed flush leaves its rows in the appender's buffer.
    for (const appender of Object.values(this.#appenders)) appender.clear();
    await this.#restart();
  }

  /** Rolls back the open transaction and begins a new one. */
  async #restart(): Promise<void> {
    // Fails when a failed COMMIT already ended the transaction, which leaves nothing to undo.
    await this.#connection.run('ROLLBACK').catch(() => {});
    await this.#connection.run('BEGIN TRANSACTION');
  }

  /**
   * Runs `work` on the write connection inside a transaction of its own, with
   * a fresh snapshot that includes every other connection's commits, and commits
   * it. Rolls it back and rethrows when `work` fails.
   */
  async runInTransaction<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    await this.#connection.run(COMMIT_AND_BEGIN_SQL);
    try {
      const result = await work(this.#connection);
      await this.#connection.run(COMMIT_AND_BEGIN_SQL);
      return result;
    } catch (error) {
      await this.#restart();
      throw error;
    }
  }

  /** Rolls back the open transaction, which is empty between loads, and closes the appenders. */
  async close(): Promise<void> {
    await this.#connection.run('ROLLBACK').catch(() => {});
    for (const appender of Object.values(this.#appenders)) appender.closeSync();
  }
}

/**
 * Appends rows and flushes them. Inside a transaction the flush joins it,
 * and outside one it commits on its own.
 */
function append<Row>(
  appender: DuckDBAppender,
  columns: ReadonlyArray<readonly [string, keyof Row, ColumnKind]>,
  rows: readonly Row[],
): void {
  if (rows.length === 0) return;
  for (const row of rows) {
    for (const [, field, kind] of columns) appendValue(appender, row[field], kind);
    appender.endRow();
  }
  appender.flushSync();
}

function appendValue(appender: DuckDBAppender, value: unknown, kind: ColumnKind): void {
  if (value === null || value === undefined) {
    appender.appendNull();
  } else if (kind === 'text') {
    appender.appendVarchar(String(value));
  } else if (kind === 'json') {
    appender.appendVarchar(JSON.stringify(value));
  } else if (kind === 'integer') {
    appender.appendInteger(Math.round(Number(value)));
  } else {
    appender.appendBigInt(BigInt(Math.round(Number(value))));
  }
}
