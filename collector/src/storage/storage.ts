import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { type AnalyticsSummary, summarizeSessions } from './analytics.js';
import { AdminStore, type AdminStoreOptions } from './admin-store.js';
import type { AuditActor, AuditRow } from './admin-rows.js';
import { AnalyticsStore } from './analytics-store.js';
import { runMigrations } from './migrations.js';
import { isShared, readOrCreateSecret } from '../secret-file.js';
import { type PurgeCounts, purgeExpiredData } from './retention.js';
import { type EventRow, type SessionRow, toEventRow, toSessionRow } from './rows.js';
import { ConnectionGate, SharedConnection } from './shared-connection.js';
import {
  canonicalPath,
  isLockConflict,
  lockDatabase,
  lockError,
  openDatabase,
} from './database-lock.js';
import {
  listLiveSessionIds,
  listRecentEvents,
  listSessions,
  type SessionFilter,
} from './session-queries.js';
import { IngestLog } from './ingest-log.js';
import { LiveEventIndex } from './live-event-index.js';
import {
  ERASURE_KEY_FILE,
  type ErasureCounts,
  eraseUserData,
  exportUserData,
  findErasures,
  hashSessionId,
  readErasedSessionHmacs,
  type UserData,
} from './user-data.js';
import { type WriteRequest, WriteQueue } from './write-queue.js';
import { GROUP_LINE_PREFIX, isLoadableLine, WriteStatements } from './write-statements.js';

/** Filters of `Storage.listLiveSessions`. */
export interface LiveSessionFilter {
  /** Maximum rows returned, most recently seen first. */
  limit: number;
  appId?: string;
  userId?: string;
}

/** The collector's database. Every number it returns is a JS number, never a BigInt. */
export interface Storage {
  /** Absolute path of the DuckDB file. */
  readonly path: string;
  /** Report queries, on a read connection of their own. */
  readonly analytics: AnalyticsStore;
  /** Settings, policies, user groups, audit log and integration log, on a connection of their own. */
  readonly admin: AdminStore;
  /** Runs a write request in the write queue and resolves once it is synced to the ingest log. */
  transact<T>(request: WriteRequest<T>): Promise<T>;
  /** Loads one session by id. */
  getSession(id: string): Promise<SessionRow | undefined>;
  /** Lists sessions that have not ended. */
  listLiveSessions(filter: LiveSessionFilter): Promise<SessionRow[]>;
  /** Lists sessions by state, app and user, a page at a time. */
  listSessions(filter: SessionFilter): Promise<SessionRow[]>;
  /** Lists the latest `limit` events of a session, newest first. */
  listRecentEvents(sessionId: string, limit: number): Promise<EventRow[]>;
  /** Lists the ids of every live session. */
  listLiveSessionIds(): Promise<string[]>;
  /** Lists the stored events of a session in timestamp order. */
  listEvents(sessionId: string): Promise<EventRow[]>;
  /**
   * Returns ids of live sessions past their idle or absolute limit at `now`,
   * or with no open tab and no batch for more than `closeAfterMs`.
   */
  findSessionsToExpire(now: number, closeAfterMs: number, limit?: number): Promise<string[]>;
  /** Reads every row about a user in one snapshot (see `UserData` for the scope). */
  exportUser(userId: string): Promise<UserData>;
  /**
   * Deletes every row about a user in one transaction between write groups
   * and records a `user.erase` audit entry without the id. Later batches of
   * the erased sessions are answered as ended for the life of the process.
   */
  eraseUser(userId: string, actor: AuditActor, now: number): Promise<ErasureCounts>;
  /**
   * Returns the `user.erase` audit entries of a user id, oldest first, found
   * by its keyed hash under the key in `ERASURE_KEY_FILE`.
   */
  findErasures(userId: string): Promise<AuditRow[]>;
  /** Deletes per-session and per-user rows older than `cutoff` (epoch ms), between write groups. */
  purgeBefore(cutoff: number): Promise<PurgeCounts>;
  /** Computes session metrics over sessions that started in [from, to). */
  summarize(from: number, to: number): Promise<AnalyticsSummary>;
  /**
   * Loads the ingest log, closes DuckDB and opens it again, while writes and
   * reads wait. DuckDB keeps memory for the data written since it opened
   * that only closing frees; `StorageOptions.reopenAfterEvents` calls this.
   */
  reopen(): Promise<void>;
  /** Waits for queued writes, then closes the database. */
  close(): Promise<void>;
}

/** A segment of the ingest log that a crash left and the start loaded. */
export interface RecoveredLog {
  path: string;
  /** Write groups loaded from it. */
  groups: number;
  /** Bytes cut from its end: a group a crash interrupted before its reply. */
  cutBytes: number;
  /** Lines that could not load, such as lines damaged on disk, moved to `rejectedPath`. */
  rejectedLines: number;
  /** The file beside the segment that contains its rejected lines, when there were any. */
  rejectedPath?: string;
}

/** Options of `openStorage`. */
export interface StorageOptions extends AdminStoreOptions {
  /** Receives an error of a background load of the ingest log, which the next load retries. */
  onLoadError?: (error: unknown) => void;
  /**
   * Receives the path of the DuckDB file or the erasure key file when users
   * other than its owner may read or write it.
   */
  onSharedFile?: (path: string) => void;
  /** Receives the ingest log segments a crash left, once they are loaded at start-up. */
  onLogRecovered?: (segments: RecoveredLog[]) => void;
  /** Receives the path of a damaged lock file that the open replaced (see `lockDatabase`). */
  onLockFileReplaced?: (path: string) => void;
  /**
   * Events written after which DuckDB is closed and opened again, because
   * DuckDB keeps memory that grows with the data written since it opened
   * until it closes. 0 never reopens. @default 1000000
   */
  reopenAfterEvents?: number;
  /** Receives each reopen: how long writes and reads waited, and the events written before it. */
  onReopen?: (reopen: { durationMs: number; events: number }) => void;
  /**
   * Receives the error of a reopen that closed DuckDB and could not open it
   * again. Reads and loads fail after it, and so does `close`. Writes to
   * sessions held in memory are still appended to the ingest log and
   * acknowledged, until `StorageBacklogError` stops them, and the next start
   * loads them. A reopen whose load of the ingest log failed left DuckDB open
   * and is tried again 1 s later.
   */
  onReopenError?: (error: unknown) => void;
  /**
   * DuckDB's `memory_limit`, such as `512MB` or `2GiB`. DuckDB keeps table
   * blocks it has read or written cached up to this limit, so resident memory
   * grows with the data until it is reached. @default 80% of physical memory
   */
  memoryLimit?: string;
}

/** Paths opened by this process, because DuckDB's file lock allows a second open in one process. */
const openPaths = new Set<string>();

/** Events written before DuckDB reopens, when `StorageOptions.reopenAfterEvents` is not set. */
export const DEFAULT_REOPEN_AFTER_EVENTS = 1_000_000;

/** Wait after a reopen whose load of the ingest log failed before the next one starts. */
const REOPEN_RETRY_MS = 1000;

/**
 * Time a reopen keeps trying to open the database file while another process
 * holds its lock, which that process could take while the file was closed.
 * Writes and reads wait meanwhile.
 */
const REOPEN_LOCK_WAIT_MS = 5000;
/** Wait between two attempts of a reopen to open a locked database file. */
const REOPEN_LOCK_RETRY_MS = 50;

/** Returns the folder of the ingest log of a database file: its path with `.ingest` appended. */
export function ingestLogPath(databasePath: string): string {
  return `${resolve(databasePath)}.ingest`;
}

/**
 * Opens (creating it and its folder when missing) a DuckDB file, applies
 * pending migrations, loads what a crash left in the ingest log and returns
 * the storage. Throws when another process or another storage in this
 * process has the file open.
 */
export async function openStorage(
  path: string,
  options: StorageOptions = {},
): Promise<Storage> {
  const absolutePath = resolve(path);
  if (openPaths.has(absolutePath)) throw lockError(absolutePath);
  openPaths.add(absolutePath);

  let lock: DuckDBInstance | undefined;
  let instance: DuckDBInstance | undefined;
  try {
    const folder = dirname(absolutePath);
    await mkdir(folder, { recursive: true }).catch((error: Error) => {
      throw new Error(`Cannot create the folder ${folder} for the database file: ${error.message}`, { cause: error });
    });
    // DuckDB opens a database file in a read-only folder but fails at the first
    // write, when it creates its write-ahead log (<file>.wal) beside the file.
    await access(folder, constants.W_OK).catch((error: Error) => {
      const message = `The folder ${folder} is not writable, and DuckDB creates its write-ahead log there`;
      throw new Error(`${message}: ${error.message}`, { cause: error });
    });
    // DuckDB rejects a folder only after the lock file exists beside it, so check first.
    if ((await stat(absolutePath).catch(() => undefined))?.isDirectory()) {
      const example = join(absolutePath, 'process-sessions.duckdb');
      throw new Error(`${absolutePath} is a folder, not a database file. Use a file path such as ${example}`);
    }
    // Through a symbolic link the path differs, but the lock file must not.
    lock = await lockDatabase(await canonicalPath(absolutePath), options.onLockFileReplaced);
    instance = await openDatabase(absolutePath, options.memoryLimit);
    if (await isShared(absolutePath)) options.onSharedFile?.(absolutePath);
    // Created once DuckDB opened the file, so that a path DuckDB rejects leaves no key beside it.
    const erasureKeyPath = join(dirname(absolutePath), ERASURE_KEY_FILE);
    const erasureKeyFile = await readOrCreateSecret(erasureKeyPath, 'erasure key');
    const erasureKey = erasureKeyFile.secret;
    if (erasureKeyFile.isShared) options.onSharedFile?.(erasureKeyPath);
    const writer = await instance.connect();
    await runMigrations(writer);
    const groupReader = await instance.connect();
    const statements = await WriteStatements.create(writer, groupReader);
    const lastLoadedSeq = await statements.readLastLoadedSeq();
    const { log, segments } = await IngestLog.open(
      ingestLogPath(absolutePath),
      lastLoadedSeq,
      GROUP_LINE_PREFIX,
      isLoadableLine,
    );
    const liveEventIds = new LiveEventIndex();
    // Opened after recovery, because it numbers audit entries after the last stored one.
    let admin: AdminStore | undefined;
    // Set once the storage exists, which is after recovery; recovery logs no group.
    let onEventsLogged: ((count: number) => void) | undefined;
    const queue = new WriteQueue(statements, {
      onEventsLogged: (count) => onEventsLogged?.(count),
      nextAuditSeq: () => {
        if (!admin) throw new Error('audit entry requested before storage finished opening');
        return admin.nextAuditSeq();
      },
      log,
      liveEventIds,
      erasedSessionHmacs: await readErasedSessionHmacs(writer),
      hashSessionId: (sessionId) => hashSessionId(sessionId, erasureKey),
      ...(options.onLoadError ? { onLoadError: options.onLoadError } : {}),
    });
    await queue.recover(segments);
    if (segments.length > 0) {
      const recovered = segments.map(({ path, groupLines, cutBytes, rejectedLines, rejectedPath }) => {
        const rejected = rejectedPath === undefined ? {} : { rejectedPath };
        return { path, groups: groupLines.length, cutBytes, rejectedLines, ...rejected };
      });
      options.onLogRecovered?.(recovered);
    }
    for (const row of await statements.loadLiveEventIds()) liveEventIds.add(row.sessionId, row.id);

    const sync = () => queue.sync();
    const gate = new ConnectionGate();
    const reader = new SharedConnection(gate, await instance.connect());
    const analyticsConnection = new SharedConnection(gate, await instance.connect());
    const adminConnection = new SharedConnection(gate, await instance.connect());
    const analytics = new AnalyticsStore(analyticsConnection, sync);
    admin = await AdminStore.open(adminConnection, { ...options, beforeAuditRead: sync });
    const storage = new DuckDBStorage(absolutePath, options, {
      lock,
      instance,
      writer,
      groupReader,
      gate,
      reader,
      shared: [reader, analyticsConnection, adminConnection],
      queue,
      analytics,
      admin,
      erasureKey,
    });
    onEventsLogged = (count) => storage.countWrittenEvents(count);
    return storage;
  } catch (error) {
    instance?.closeSync();
    lock?.closeSync();
    openPaths.delete(absolutePath);
    throw error;
  }
}

/**
 * Opens the database file again during a reopen. Another process, such as
 * the DuckDB CLI, may have opened the file while it was closed, so a lock
 * conflict is retried for up to `REOPEN_LOCK_WAIT_MS`.
 */
async function openAgain(path: string, memoryLimit?: string): Promise<DuckDBInstance> {
  const deadline = performance.now() + REOPEN_LOCK_WAIT_MS;
  for (;;) {
    try {
      return await DuckDBInstance.create(path, memoryLimit ? { memory_limit: memoryLimit } : {});
    } catch (error) {
      if (!isLockConflict(error)) throw error;
      if (performance.now() >= deadline) {
        const message =
          `Another process opened ${path} while the collector closed it to free memory, and ` +
          `still held it after ${REOPEN_LOCK_WAIT_MS} ms; stop that process, then restart the collector`;
        throw new Error(message, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, REOPEN_LOCK_RETRY_MS));
    }
  }
}

/** The connections and stores of one open database. */
interface StorageParts {
  /** The instance on the lock file. */
  lock: DuckDBInstance;
  instance: DuckDBInstance;
  writer: DuckDBConnection;
  /** Session reads of write groups. */
  groupReader: DuckDBConnection;
  /** Lets reads and admin writes run, and pauses them for a reopen. */
  gate: ConnectionGate;
  reader: SharedConnection;
  /** Every connection behind `gate`, `reader` included. */
  shared: SharedConnection[];
  queue: WriteQueue;
  analytics: AnalyticsStore;
  admin: AdminStore;
  /** Key of the user id hashes in `user.erase` audit entries. */
  erasureKey: string;
}

class DuckDBStorage implements Storage {
  readonly path: string;
  readonly analytics: AnalyticsStore;
  readonly admin: AdminStore;
  readonly #options: StorageOptions;
  readonly #lock: DuckDBInstance;
  #instance: DuckDBInstance;
  #writer: DuckDBConnection;
  #groupReader: DuckDBConnection;
  readonly #gate: ConnectionGate;
  readonly #reader: SharedConnection;
  readonly #shared: readonly SharedConnection[];
  readonly #queue: WriteQueue;
  readonly #erasureKey: string;
  readonly #reopenAfterEvents: number;
  /** Events written since DuckDB opened. */
  #eventsSinceOpen = 0;
  #reopening: Promise<void> | undefined;
  /** `performance.now()` before which no reopen starts, after one failed. */
  #reopenNotBefore = 0;
  /** Set once a reopen closed DuckDB and could not open it. */
  #reopenFailed = false;
  #closing: Promise<void> | undefined;

  constructor(path: string, options: StorageOptions, parts: StorageParts) {
    this.path = path;
    this.analytics = parts.analytics;
    this.admin = parts.admin;
    this.#options = options;
    this.#lock = parts.lock;
    this.#instance = parts.instance;
    this.#writer = parts.writer;
    this.#groupReader = parts.groupReader;
    this.#gate = parts.gate;
    this.#reader = parts.reader;
    this.#shared = parts.shared;
    this.#queue = parts.queue;
    this.#erasureKey = parts.erasureKey;
    this.#reopenAfterEvents = options.reopenAfterEvents ?? DEFAULT_REOPEN_AFTER_EVENTS;
  }

  transact<T>(request: WriteRequest<T>): Promise<T> {
    return this.#queue.transact(request);
  }

  /**
   * Adds events the write queue logged to the count since DuckDB opened, and
   * starts a reopen once the count reaches `reopenAfterEvents`.
   */
  countWrittenEvents(count: number): void {
    this.#eventsSinceOpen += count;
    if (
      this.#reopenAfterEvents > 0 &&
      this.#eventsSinceOpen >= this.#reopenAfterEvents &&
      !this.#reopening &&
      !this.#closing &&
      !this.#reopenFailed &&
      performance.now() >= this.#reopenNotBefore
    ) {
      this.reopen().catch((error: unknown) => {
        this.#reopenNotBefore = performance.now() + REOPEN_RETRY_MS;
        if (this.#reopenFailed) this.#options.onReopenError?.(error);
        else this.#options.onLoadError?.(error);
      });
    }
  }

  reopen(): Promise<void> {
    if (this.#reopenFailed) {
      return Promise.reject(new Error(`DuckDB could not be opened again after closing ${this.path}`));
    }
    this.#reopening ??= this.#reopen().finally(() => {
      this.#reopening = undefined;
    });
    return this.#reopening;
  }

  async #reopen(): Promise<void> {
    const started = performance.now();
    const events = this.#eventsSinceOpen;
    const resume = await this.#gate.pause();
    let isClosing = false;
    try {
      await this.#queue.reopen(async (statements) => {
        // closeSync blocks the event loop while it checkpoints the WAL: 20 to
        // 160 ms under 75,000 to 90,000 events/s on 2 cores. After this
        // checkpoint, which runs on DuckDB's threads, it blocked for 12 to 23 ms.
        await this.#writer.run('CHECKPOINT');
        isClosing = true;
        await statements.close();
        for (const connection of this.#shared) connection.closeSync();
        this.#groupReader.closeSync();
        this.#writer.closeSync();
        this.#instance.closeSync();
        this.#instance = await openAgain(this.path, this.#options.memoryLimit);
        this.#writer = await this.#instance.connect();
        this.#groupReader = await this.#instance.connect();
        for (const connection of this.#shared) connection.replace(await this.#instance.connect());
        return WriteStatements.create(this.#writer, this.#groupReader);
      });
    } catch (error) {
      // Before the close, only the load of the ingest log or the checkpoint failed, and DuckDB is still open.
      if (isClosing) this.#reopenFailed = true;
      throw error;
    } finally {
      resume();
    }
    this.#eventsSinceOpen -= events;
    this.#options.onReopen?.({ durationMs: performance.now() - started, events });
  }

  async getSession(id: string): Promise<SessionRow | undefined> {
    const cached = this.#queue.cachedSession(id);
    if (cached) return cached;

    // A session that no group changed since the last load is current in DuckDB, so no sync.
    const reader = await this.#reader.use((connection) =>
      connection.runAndReadAll('SELECT * FROM sessions WHERE id = $id', { id }),
    );
    const rows = reader.getRowObjectsJS();
    return rows[0] ? toSessionRow(rows[0]) : undefined;
  }

  async listLiveSessions(filter: LiveSessionFilter): Promise<SessionRow[]> {
    const rows = await this.#readRows(
      `SELECT * FROM sessions
       WHERE ended_at IS NULL
         AND ($appId IS NULL OR app_id = $appId)
         AND ($userId IS NULL OR user_id = $userId)
       ORDER BY last_seen_at DESC, id
       LIMIT $limit`,
      { appId: filter.appId ?? null, userId: filter.userId ?? null, limit: filter.limit },
    );
    return rows.map((row) => toSessionRow(row));
  }

  async listSessions(filter: SessionFilter): Promise<SessionRow[]> {
    await this.#queue.sync();
    return this.#reader.use((connection) => listSessions(connection, filter));
  }

  async listRecentEvents(sessionId: string, limit: number): Promise<EventRow[]> {
    await this.#queue.sync();
    return this.#reader.use((connection) => listRecentEvents(connection, sessionId, limit));
  }

  async listLiveSessionIds(): Promise<string[]> {
    await this.#queue.sync();
    return this.#reader.use((connection) => listLiveSessionIds(connection));
  }

  async listEvents(sessionId: string): Promise<EventRow[]> {
    const rows = await this.#readRows(
      'SELECT * FROM events WHERE session_id = $sessionId ORDER BY ts, id',
      { sessionId },
    );
    return rows.map((row) => toEventRow(row));
  }

  async findSessionsToExpire(now: number, closeAfterMs: number, limit = 1000): Promise<string[]> {
    const rows = await this.#readRows(
      `SELECT id FROM sessions
       WHERE ended_at IS NULL
         AND (last_activity_at + idle_timeout_ms < $now
           OR started_at + absolute_timeout_ms < $now
           OR (tabs_now = 0 AND last_seen_at + $closeAfterMs < $now))
       ORDER BY id
       LIMIT $limit`,
      { now, closeAfterMs, limit },
    );
    return rows.map((row) => String(row.id));
  }

  async exportUser(userId: string): Promise<UserData> {
    await this.admin.flushIngestErrors();
    await this.#queue.sync();
    return this.#gate.run(async () => {
      // A connection of its own, so that the transaction sees one snapshot.
      const connection = await this.#instance.connect();
      try {
        await connection.run('BEGIN TRANSACTION');
        const data = await exportUserData(connection, userId);
        await connection.run('COMMIT');
        return data;
      } finally {
        connection.closeSync();
      }
    });
  }

  async eraseUser(userId: string, actor: AuditActor, now: number): Promise<ErasureCounts> {
    await this.admin.flushIngestErrors();
    return this.#queue.runExclusive(async (connection) => {
      const auditSeq = () => this.admin.nextAuditSeq();
      const key = this.#erasureKey;
      const erasure = await eraseUserData(connection, userId, { actor, createdAt: now, auditSeq, key });
      return {
        value: erasure.counts,
        erasedSessionIds: erasure.sessionIds,
        erasedSessionHmacs: erasure.sessionHmacs,
      };
    });
  }

  async findErasures(userId: string): Promise<AuditRow[]> {
    await this.#queue.sync();
    return this.#reader.use((connection) => findErasures(connection, userId, this.#erasureKey));
  }

  async purgeBefore(cutoff: number): Promise<PurgeCounts> {
    await this.admin.flushIngestErrors();
    return this.#queue.runExclusive(async (connection) => ({
      value: await purgeExpiredData(connection, cutoff),
    }));
  }

  async summarize(from: number, to: number): Promise<AnalyticsSummary> {
    await this.#queue.sync();
    return this.#reader.use((connection) => summarizeSessions(connection, from, to));
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await this.#reopening?.catch(() => {});
    try {
      // A failed last load leaves the log files for the next start; the database closes anyway.
      await this.#queue.close();
    } finally {
      await this.admin.close();
      for (const connection of this.#shared) connection.closeSync();
      this.#groupReader.closeSync();
      this.#writer.closeSync();
      this.#instance.closeSync();
      this.#lock.closeSync();
      openPaths.delete(this.path);
    }
  }

  /** Runs a query on the read connection once every logged group is loaded. */
  async #readRows(
    sql: string,
    values: Record<string, string | number | null>,
  ): Promise<Record<string, unknown>[]> {
    await this.#queue.sync();
    const reader = await this.#reader.use((connection) => connection.runAndReadAll(sql, values));
    return reader.getRowObjectsJS();
  }
}
