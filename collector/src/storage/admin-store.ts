import type { DuckDBConnection } from '@duckdb/node-api';
import {
  type AuditRow,
  type IngestErrorRow,
  type PolicyRow,
  toAuditRow,
  toIngestErrorRow,
  toPolicyRow,
} from './admin-rows.js';
import { IngestErrorBuffer } from './ingest-error-buffer.js';
import { toNumber } from './rows.js';
import type { SharedConnection } from './shared-connection.js';

/** An audit entry before it has a sequence number. */
export type AuditInput = Omit<AuditRow, 'seq'>;

/** An ingest error before it has a sequence number. */
export type IngestErrorInput = Omit<IngestErrorRow, 'seq'>;

/** Stored settings, policies and user groups, as `AdminStore.loadPolicyState` reads them. */
export interface StoredPolicyState {
  /** Setting values saved through the admin API, by setting name. */
  settings: Record<string, unknown>;
  policies: PolicyRow[];
  /** User id to user group. */
  userGroups: Map<string, string>;
}

/** Filters of `AdminStore.listAudit`; entries come newest first. */
export interface AuditFilter {
  limit: number;
  /** Only entries with a smaller `seq`, for the next page. */
  beforeSeq?: number;
  action?: string;
  targetId?: string;
}

/** Filters of `AdminStore.listIngestErrors`; errors come newest first. */
export interface IngestErrorFilter {
  limit: number;
  beforeSeq?: number;
  code?: string;
  appId?: string;
}

type SqlValue = string | number | boolean | null;

/** Options of `AdminStore.open`. */
export interface AdminStoreOptions {
  /** Rows the integration log keeps; older ones are deleted. @default 10000 */
  maxIngestErrors?: number;
  /** Receives a failed write of the integration log, or a count of errors dropped. */
  onIngestLogError?: (error: unknown, count: number) => void;
  /** Resolves once the audit entries of acknowledged writes are in DuckDB; awaited before audit reads. */
  beforeAuditRead?: () => Promise<void>;
}

/** Default size of the integration log, in rows. */
export const DEFAULT_MAX_INGEST_ERRORS = 10_000;

const INSERT_AUDIT_SQL = `
  INSERT INTO audit_log
  VALUES ($seq, $createdAt, $actorName, $actorRole, $action, $targetType, $targetId, $reason, $details)
`;

/**
 * Settings, policies, user groups, the audit log and the integration log, on
 * a connection of their own. Writes run one at a time, each in a transaction
 * with its audit entry. They never touch the `sessions` and `events` tables of
 * the write queue, so the two connections cannot conflict.
 */
export class AdminStore {
  readonly #connection: SharedConnection;
  readonly #ingestErrors: IngestErrorBuffer;
  readonly #beforeAuditRead: () => Promise<void>;
  #lastAuditSeq = 0;
  #lastIngestErrorSeq = 0;
  #tail: Promise<unknown> = Promise.resolve();

  private constructor(connection: SharedConnection, options: AdminStoreOptions) {
    this.#connection = connection;
    this.#beforeAuditRead = options.beforeAuditRead ?? (() => Promise.resolve());
    const keep = options.maxIngestErrors ?? DEFAULT_MAX_INGEST_ERRORS;
    this.#ingestErrors = new IngestErrorBuffer(
      (errors) => this.#insertIngestErrors(errors, keep),
      options.onIngestLogError ?? (() => {}),
    );
  }

  /** Creates the store on its connection and reads the latest sequence numbers. */
  static async open(connection: SharedConnection, options: AdminStoreOptions = {}): Promise<AdminStore> {
    const store = new AdminStore(connection, options);
    const [row = {}] = await store.#read(`
      SELECT
        (SELECT coalesce(max(seq), 0) FROM audit_log) AS audit,
        (SELECT coalesce(max(seq), 0) FROM ingest_errors) AS errors
    `);
    store.#lastAuditSeq = toNumber(row.audit);
    store.#lastIngestErrorSeq = toNumber(row.errors);
    return store;
  }

  /**
   * Returns the next audit sequence number. Only this process writes the
   * file, so a counter in memory is enough; numbers of rolled-back writes
   * leave gaps.
   */
  nextAuditSeq(): number {
    this.#lastAuditSeq += 1;
    return this.#lastAuditSeq;
  }

  /** Loads the saved settings, every policy and the user group map. */
  async loadPolicyState(): Promise<StoredPolicyState> {
    const settings: Record<string, unknown> = {};
    for (const row of await this.#read('SELECT key, value FROM settings')) {
      settings[String(row.key)] = JSON.parse(String(row.value));
    }
    const policies = await this.#read('SELECT * FROM policies ORDER BY created_at, id');
    const groups = await this.#read('SELECT user_id, user_group FROM user_groups');
    return {
      settings,
      policies: policies.map((row) => toPolicyRow(row)),
      userGroups: new Map(groups.map((row) => [String(row.user_id), String(row.user_group)])),
    };
  }

  /** Saves setting values by name and records `audit`, if any, in one transaction. */
  saveSettings(
    values: Record<string, unknown>,
    updatedAt: number,
    audit: AuditInput | undefined,
  ): Promise<void> {
    return this.#transaction(async (connection) => {
      for (const [key, value] of Object.entries(values)) {
        await connection.run(
          'INSERT OR REPLACE INTO settings VALUES ($key, $value, $updatedAt)',
          { key, value: JSON.stringify(value), updatedAt },
        );
      }
      if (audit) await this.#insertAudit(connection, audit);
    });
  }

  /** Inserts or replaces a policy and records `audit`, in one transaction. */
  savePolicy(policy: PolicyRow, audit: AuditInput): Promise<void> {
    return this.#transaction(async (connection) => {
      await connection.run(
        `INSERT OR REPLACE INTO policies
         VALUES ($id, $name, $appId, $userGroup, $overrides, $createdAt, $updatedAt)`,
        { ...policy, overrides: JSON.stringify(policy.overrides) },
      );
      await this.#insertAudit(connection, audit);
    });
  }

  /** Deletes a policy and records `audit`, in one transaction. */
  deletePolicy(id: string, audit: AuditInput): Promise<void> {
    return this.#transaction(async (connection) => {
      await connection.run('DELETE FROM policies WHERE id = $id', { id });
      await this.#insertAudit(connection, audit);
    });
  }

  /** Maps a user to a group, or removes the mapping when `group` is null, and records `audit`. */
  saveUserGroup(userId: string, group: string | null, audit: AuditInput): Promise<void> {
    return this.#transaction(async (connection) => {
      await connection.run('DELETE FROM user_groups WHERE user_id = $userId', { userId });
      if (group !== null) {
        await connection.run('INSERT INTO user_groups VALUES ($userId, $group, $updatedAt)', {
          userId,
          group,
          updatedAt: audit.createdAt,
        });
      }
      await this.#insertAudit(connection, audit);
    });
  }

  /** Records an audit entry on its own. */
  appendAudit(audit: AuditInput): Promise<void> {
    return this.#transaction((connection) => this.#insertAudit(connection, audit));
  }

  /** Lists audit entries, newest first. */
  async listAudit(filter: AuditFilter): Promise<AuditRow[]> {
    await this.#beforeAuditRead();
    const rows = await this.#read(
      `SELECT * FROM audit_log
       WHERE ($beforeSeq IS NULL OR seq < $beforeSeq)
         AND ($action IS NULL OR action = $action)
         AND ($targetId IS NULL OR target_id = $targetId)
       ORDER BY seq DESC
       LIMIT $limit`,
      {
        beforeSeq: filter.beforeSeq ?? null,
        action: filter.action ?? null,
        targetId: filter.targetId ?? null,
        limit: filter.limit,
      },
    );
    return rows.map((row) => toAuditRow(row));
  }

  /** Buffers a rejected ingest request for the integration log; it is written within a second. */
  recordIngestError(error: IngestErrorInput): void {
    this.#ingestErrors.add(error);
  }

  /** Writes the buffered ingest errors now. */
  flushIngestErrors(): Promise<void> {
    return this.#ingestErrors.flush();
  }

  /**
   * Inserts ingest errors, then deletes all but the newest `keep`, in one
   * transaction, so the table stays bounded.
   */
  #insertIngestErrors(errors: readonly IngestErrorInput[], keep: number): Promise<void> {
    return this.#transaction(async (connection) => {
      for (const error of errors) {
        this.#lastIngestErrorSeq += 1;
        await connection.run(
          `INSERT INTO ingest_errors
           VALUES ($seq, $createdAt, $status, $code, $message, $appId, $sessionId, $origin, $requestId)`,
          { ...error, seq: this.#lastIngestErrorSeq },
        );
      }
      await connection.run('DELETE FROM ingest_errors WHERE seq <= $oldest', {
        oldest: this.#lastIngestErrorSeq - keep,
      });
    });
  }

  /** Lists ingest errors, newest first, after writing the buffered ones. */
  async listIngestErrors(filter: IngestErrorFilter): Promise<IngestErrorRow[]> {
    await this.flushIngestErrors();
    const rows = await this.#read(
      `SELECT * FROM ingest_errors
       WHERE ($beforeSeq IS NULL OR seq < $beforeSeq)
         AND ($code IS NULL OR code = $code)
         AND ($appId IS NULL OR app_id = $appId)
       ORDER BY seq DESC
       LIMIT $limit`,
      {
        beforeSeq: filter.beforeSeq ?? null,
        code: filter.code ?? null,
        appId: filter.appId ?? null,
        limit: filter.limit,
      },
    );
    return rows.map((row) => toIngestErrorRow(row));
  }

  /** Writes the buffered ingest errors and waits for running writes; the storage closes the connection. */
  async close(): Promise<void> {
    await this.flushIngestErrors();
    await this.#tail.catch(() => {});
  }

  async #insertAudit(connection: DuckDBConnection, audit: AuditInput): Promise<void> {
    await connection.run(INSERT_AUDIT_SQL, {
      ...audit,
      seq: this.nextAuditSeq(),
      details: audit.details === null ? null : JSON.stringify(audit.details),
    });
  }

  /** Runs `work` in a transaction, after every earlier call of this store has settled. */
  #transaction(work: (connection: DuckDBConnection) => Promise<void>): Promise<void> {
    return this.#serialize(async (connection) => {
      await connection.run('BEGIN TRANSACTION');
      try {
        await work(connection);
        await connection.run('COMMIT');
      } catch (error) {
        await connection.run('ROLLBACK').catch(() => {});
        throw error;
      }
    });
  }

  /** Runs `work` on the connection once every earlier call has settled, because calls share it. */
  #serialize<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const run = () => this.#connection.use(work);
    const result = this.#tail.then(run, run);
    this.#tail = result.catch(() => {});
    return result;
  }

  /** Runs a query after the writes before it, so it never reads inside their transaction. */
  #read(sql: string, values?: Record<string, SqlValue>): Promise<Record<string, unknown>[]> {
    return this.#serialize(async (connection) => {
      const reader = await connection.runAndReadAll(sql, values);
      return reader.getRowObjectsJS();
    });
  }
}
