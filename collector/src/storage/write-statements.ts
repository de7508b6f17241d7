import {
  type DuckDBAppender,
  type DuckDBConnection,
  type DuckDBPreparedStatement,
  LIST,
  listValue,
  VARCHAR,
} from '@duckdb/node-api';
import { AUDIT_COLUMNS, type AuditRow } from './admin-rows.js';
import {
  type ColumnKind,
  EVENT_COLUMNS,
  type EventRow,
  SESSION_COLUMNS,
  type SessionRow,
  toSessionRow,
} from './rows.js';

const CHANGED_SESSIONS = 'staging_changed_sessions';
const STAGED_EVENT_IDS = 'staging_event_ids';

const SESSION_UPDATES = SESSION_COLUMNS.filter(([column]) => column !== 'id')
  .map(([column]) => `${column} = s.${column}`)
  .join(', ');

/**
 * Ends a group: the changed sessions go from their staging table into
 * `sessions` in one UPDATE, and the transaction commits. Sent as one native
 * call, so the end of a group costs one thread hop.
 */
const UPDATE_AND_COMMIT_SQL = `
  UPDATE sessions SET ${SESSION_UPDATES} FROM ${CHANGED_SESSIONS} AS s WHERE sessions.id = s.id;
  DELETE FROM ${CHANGED_SESSIONS};
  COMMIT;
`;

/** Appenders of the write connection, one a table. */
type Appenders = Record<
  'newSessions' | 'changedSessions' | 'events' | 'audit' | 'eventIds',
  DuckDBAppender
>;

/** Rows of one write group. */
export interface GroupRows {
  newSessions: readonly SessionRow[];
  changedSessions: readonly SessionRow[];
  events: readonly EventRow[];
  audit: readonly AuditRow[];
}

/**
 * The SQL of the write connection. New rows go through appenders straight
 * into their tables inside the group's transaction, because an appender's
 * flush joins the open transaction and so commits or rolls back with it.
 * Changed sessions go through a temporary staging table and one UPDATE.
 * Staging tables are per connection and vanish with it, so a crash leaves
 * no staged rows behind.
 */
export class WriteStatements {
  readonly #connection: DuckDBConnection;
  readonly #loadSessions: DuckDBPreparedStatement;
  readonly #loadUserSessions: DuckDBPreparedStatement;
  readonly #appenders: Appenders;

  private constructor(
    connection: DuckDBConnection,
    loads: { sessions: DuckDBPreparedStatement; userSessions: DuckDBPreparedStatement },
    appenders: Appenders,
  ) {
    this.#connection = connection;
    this.#loadSessions = loads.sessions;
    this.#loadUserSessions = loads.userSessions;
    this.#appenders = appenders;
  }

  /** Creates the staging tables and appenders of this connection and prepares the load queries. */
  static async create(connection: DuckDBConnection): Promise<WriteStatements> {
    await connection.run(
      `CREATE TEMP TABLE ${CHANGED_SESSIONS} AS SELECT * FROM sessions WITH NO DATA`,
    );
    await connection.run(`CREATE TEMP TABLE ${STAGED_EVENT_IDS} (id VARCHAR NOT NULL)`);
    const loads = {
      sessions: await connection.prepare('SELECT * FROM sessions WHERE id IN (SELECT unnest($1))'),
      userSessions: await connection.prepare(
        'SELECT * FROM sessions WHERE ended_at IS NULL AND user_id IN (SELECT unnest($1))',
      ),
    };
    const appenders = {
      newSessions: await connection.createAppender('sessions'),
      changedSessions: await connection.createAppender(CHANGED_SESSIONS, 'main', 'temp'),
      events: await connection.createAppender('events'),
      audit: await connection.createAppender('audit_log'),
      eventIds: await connection.createAppender(STAGED_EVENT_IDS, 'main', 'temp'),
    };
    return new WriteStatements(connection, loads, appenders);
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

  /**
   * Writes the rows in one transaction and commits it. Throws when any write
   * fails, such as an event id that is already stored, and then leaves the
   * transaction open for `rollback`.
   */
  async writeGroup(rows: GroupRows): Promise<void> {
    // The staging flush commits on its own; the UPDATE below reads it inside the transaction.
    append(this.#appenders.changedSessions, SESSION_COLUMNS, rows.changedSessions);
    await this.#connection.run('BEGIN TRANSACTION');
    append(this.#appenders.newSessions, SESSION_COLUMNS, rows.newSessions);
    append(this.#appenders.events, EVENT_COLUMNS, rows.events);
    append(this.#appenders.audit, AUDIT_COLUMNS, rows.audit);
    await this.#connection.run(UPDATE_AND_COMMIT_SQL);
  }

  /**
   * Rolls back a failed `writeGroup`, clears the staging table and returns
   * which of `eventIds` are already stored.
   */
  async rollback(eventIds: readonly string[]): Promise<string[]> {
    // A failed flush leaves its rows in the appender's buffer.
    for (const appender of Object.values(this.#appenders)) appender.clear();
    // Fails when no transaction is open, which leaves nothing to undo.
    await this.#connection.run('ROLLBACK').catch(() => {});
    await this.#connection.run(`DELETE FROM ${CHANGED_SESSIONS}`);
    if (eventIds.length === 0) return [];

    const rows = eventIds.map((id) => ({ id }));
    append(this.#appenders.eventIds, [['id', 'id', 'text']] as const, rows);
    const reader = await this.#connection.runAndReadAll(
      `SELECT s.id FROM ${STAGED_EVENT_IDS} AS s JOIN events AS e ON e.id = s.id`,
    );
    await this.#connection.run(`DELETE FROM ${STAGED_EVENT_IDS}`);
    return reader.getRowObjectsJS().map((row) => String(row.id));
  }

  /**
   * Runs `work` on the write connection inside a transaction of its own and
   * commits it, or rolls it back and rethrows when `work` fails.
   */
  async runInTransaction<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    await this.#connection.run('BEGIN TRANSACTION');
    try {
      const result = await work(this.#connection);
      await this.#connection.run('COMMIT');
      return result;
    } catch (error) {
      await this.#connection.run('ROLLBACK').catch(() => {});
      throw error;
    }
  }

  /** Closes the appenders; the connection stays open. */
  close(): void {
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
