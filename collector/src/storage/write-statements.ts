import {
  type DuckDBAppender,
  type DuckDBConnection,
  type DuckDBPreparedStatement,
  LIST,
  listValue,
  VARCHAR,
} from '@duckdb/node-api';
import {
  type ColumnKind,
  EVENT_COLUMNS,
  type EventRow,
  SESSION_COLUMNS,
  type SessionRow,
  toSessionRow,
} from './rows.js';

const SESSION_STAGING = 'staging_sessions';
const EVENT_STAGING = 'staging_events';

/**
 * The SQL of the write connection: transactions, the loads a write group
 * needs, and appender-based bulk writes through temporary staging tables.
 */
export class WriteStatements {
  readonly #connection: DuckDBConnection;
  readonly #loadSessions: DuckDBPreparedStatement;
  readonly #findEvents: DuckDBPreparedStatement;

  private constructor(
    connection: DuckDBConnection,
    loadSessions: DuckDBPreparedStatement,
    findEvents: DuckDBPreparedStatement,
  ) {
    this.#connection = connection;
    this.#loadSessions = loadSessions;
    this.#findEvents = findEvents;
  }

  /** Creates the staging tables of this connection and prepares the load queries. */
  static async create(connection: DuckDBConnection): Promise<WriteStatements> {
    // Temporary tables live only in this connection, so staging needs no cleanup after a crash.
    await connection.run(
      `CREATE TEMP TABLE ${SESSION_STAGING} AS SELECT * FROM sessions WITH NO DATA`,
    );
    await connection.run(`CREATE TEMP TABLE ${EVENT_STAGING} AS SELECT * FROM events WITH NO DATA`);
    const loadSessions = await connection.prepare(
      'SELECT * FROM sessions WHERE id IN (SELECT unnest($1))',
    );
    const findEvents = await connection.prepare(
      'SELECT id FROM events WHERE id IN (SELECT unnest($1))',
    );
    return new WriteStatements(connection, loadSessions, findEvents);
  }

  /** Starts a transaction. */
  async begin(): Promise<void> {
    await this.#connection.run('BEGIN TRANSACTION');
  }

  /** Commits the open transaction. */
  async commit(): Promise<void> {
    await this.#connection.run('COMMIT');
  }

  /** Rolls back the open transaction. */
  async rollback(): Promise<void> {
    await this.#connection.run('ROLLBACK');
  }

  /** Loads the sessions with the given ids, leaving out ids that do not exist. */
  async loadSessions(ids: readonly string[]): Promise<SessionRow[]> {
    if (ids.length === 0) return [];
    this.#loadSessions.bindList(1, listValue([...ids]), LIST(VARCHAR));
    const reader = await this.#loadSessions.runAndReadAll();
    return reader.getRowObjectsJS().map((raw) => toSessionRow(raw));
  }

  /** Returns the ids, among `ids`, of events already stored. */
  async findStoredEventIds(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    this.#findEvents.bindList(1, listValue([...ids]), LIST(VARCHAR));
    const reader = await this.#findEvents.runAndReadAll();
    return reader.getRowObjectsJS().map((raw) => String(raw.id));
  }

  /** Inserts events, skipping ids already stored. */
  async insertEvents(rows: readonly EventRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.#stage(EVENT_STAGING, EVENT_COLUMNS, rows);
    await this.#connection.run(
      `INSERT INTO events SELECT * FROM ${EVENT_STAGING} ON CONFLICT DO NOTHING`,
    );
    await this.#connection.run(`DELETE FROM ${EVENT_STAGING}`);
  }

  /** Inserts new sessions and replaces every column of existing ones. */
  async upsertSessions(rows: readonly SessionRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.#stage(SESSION_STAGING, SESSION_COLUMNS, rows);
    const updates = SESSION_COLUMNS.filter(([column]) => column !== 'id')
      .map(([column]) => `${column} = excluded.${column}`)
      .join(', ');
    await this.#connection.run(
      `INSERT INTO sessions SELECT * FROM ${SESSION_STAGING} ON CONFLICT (id) DO UPDATE SET ${updates}`,
    );
    await this.#connection.run(`DELETE FROM ${SESSION_STAGING}`);
  }

  async #stage<Row>(
    table: string,
    columns: ReadonlyArray<readonly [string, keyof Row, ColumnKind]>,
    rows: readonly Row[],
  ): Promise<void> {
    const appender = await this.#connection.createAppender(table, 'main', 'temp');
    try {
      for (const row of rows) {
        for (const [, field, kind] of columns) appendValue(appender, row[field], kind);
        appender.endRow();
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }
}

function appendValue(appender: DuckDBAppender, value: unknown, kind: ColumnKind): void {
  if (value === null || value === undefined) {
    appender.appendNull();
  } else if (kind === 'text') {
    appender.appendVarchar(String(value));
  } else if (kind === 'integer') {
    appender.appendInteger(Math.round(Number(value)));
  } else {
    appender.appendBigInt(BigInt(Math.round(Number(value))));
  }
}
