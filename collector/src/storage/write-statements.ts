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

const NEW_SESSIONS = 'staging_new_sessions';
const CHANGED_SESSIONS = 'staging_changed_sessions';
const EVENTS = 'staging_events';
const AUDIT = 'staging_audit';

const SESSION_UPDATES = SESSION_COLUMNS.filter(([column]) => column !== 'id')
  .map(([column]) => `${column} = s.${column}`)
  .join(', ');

/**
 * Writes and commits one group in one native call, so a group costs one
 * thread hop. An event id that is already stored makes the insert fail with a
 * constraint violation, and the queue then retries without it.
 */
const WRITE_GROUP_SQL = `
  BEGIN TRANSACTION;
  UPDATE sessions SET ${SESSION_UPDATES} FROM ${CHANGED_SESSIONS} AS s WHERE sessions.id = s.id;
  INSERT INTO sessions SELECT * FROM ${NEW_SESSIONS};
  INSERT INTO events SELECT * FROM ${EVENTS};
  INSERT INTO audit_log SELECT * FROM ${AUDIT};
  DELETE FROM ${NEW_SESSIONS};
  DELETE FROM ${CHANGED_SESSIONS};
  DELETE FROM ${EVENTS};
  DELETE FROM ${AUDIT};
  COMMIT;
`;

const CLEAR_STAGING_SQL = `
  DELETE FROM ${NEW_SESSIONS};
  DELETE FROM ${CHANGED_SESSIONS};
  DELETE FROM ${EVENTS};
  DELETE FROM ${AUDIT};
`;

type StagingAppenders = Record<
  'newSessions' | 'changedSessions' | 'events' | 'audit',
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
 * The SQL of the write connection. Rows go through appenders into temporary
 * staging tables (each flush commits on its own), then into the real tables
 * with a few set-based statements. Staging tables are per connection and
 * vanish with it, so a crash leaves no staged rows behind.
 */
export class WriteStatements {
  readonly #connection: DuckDBConnection;
  readonly #loadSessions: DuckDBPreparedStatement;
  readonly #loadUserSessions: DuckDBPreparedStatement;
  readonly #appenders: StagingAppenders;

  private constructor(
    connection: DuckDBConnection,
    loads: { sessions: DuckDBPreparedStatement; userSessions: DuckDBPreparedStatement },
    appenders: StagingAppenders,
  ) {
    this.#connection = connection;
    this.#loadSessions = loads.sessions;
    this.#loadUserSessions = loads.userSessions;
    this.#appenders = appenders;
  }

  /** Creates the staging tables and appenders of this connection and prepares the load query. */
  static async create(connection: DuckDBConnection): Promise<WriteStatements> {
    for (const table of [NEW_SESSIONS, CHANGED_SESSIONS]) {
      await connection.run(`CREATE TEMP TABLE ${table} AS SELECT * FROM sessions WITH NO DATA`);
    }
    await connection.run(`CREATE TEMP TABLE ${EVENTS} AS SELECT * FROM events WITH NO DATA`);
    await connection.run(`CREATE TEMP TABLE ${AUDIT} AS SELECT * FROM audit_log WITH NO DATA`);
    const loads = {
      sessions: await connection.prepare('SELECT * FROM sessions WHERE id IN (SELECT unnest($1))'),
      userSessions: await connection.prepare(
        'SELECT * FROM sessions WHERE ended_at IS NULL AND user_id IN (SELECT unnest($1))',
      ),
    };
    const appenders = {
      newSessions: await connection.createAppender(NEW_SESSIONS, 'main', 'temp'),
      changedSessions: await connection.createAppender(CHANGED_SESSIONS, 'main', 'temp'),
      events: await connection.createAppender(EVENTS, 'main', 'temp'),
      audit: await connection.createAppender(AUDIT, 'main', 'temp'),
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

  /** Stages the rows and writes them in one transaction; throws when any statement fails. */
  async writeGroup(rows: GroupRows): Promise<void> {
    stage(this.#appenders.newSessions, SESSION_COLUMNS, rows.newSessions);
    stage(this.#appenders.changedSessions, SESSION_COLUMNS, rows.changedSessions);
    stage(this.#appenders.events, EVENT_COLUMNS, rows.events);
    stage(this.#appenders.audit, AUDIT_COLUMNS, rows.audit);
    await this.#connection.run(WRITE_GROUP_SQL);
  }

  /**
   * Rolls back a failed `writeGroup` and returns the ids of staged events that
   * are already stored, then clears the staging tables.
   */
  async rollback(): Promise<string[]> {
    // A failed flush may leave rows in an appender's buffer.
    for (const appender of Object.values(this.#appenders)) appender.clear();
    // Fails when the transaction already ended, which leaves nothing to undo.
    await this.#connection.run('ROLLBACK').catch(() => {});

    const reader = await this.#connection.runAndReadAll(
      `SELECT s.id FROM ${EVENTS} AS s JOIN events AS e ON e.id = s.id`,
    );
    await this.#connection.run(CLEAR_STAGING_SQL);
    return reader.getRowObjectsJS().map((row) => String(row.id));
  }

  /** Closes the appenders; the connection stays open. */
  close(): void {
    for (const appender of Object.values(this.#appenders)) appender.closeSync();
  }
}

/** Appends rows to a staging table and flushes them; outside a transaction each flush commits. */
function stage<Row>(
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
