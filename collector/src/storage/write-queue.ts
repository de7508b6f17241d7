import type { DuckDBConnection } from '@duckdb/node-api';
import type { AuditRow } from './admin-rows.js';
import { BoundedCache } from './bounded-cache.js';
import type { IngestLog, LogSegment, RecoveredSegment } from './ingest-log.js';
import type { LiveEventIndex } from './live-event-index.js';
import type { SessionRow } from './rows.js';
import { formatGroup, type GroupLine, type WriteStatements } from './write-statements.js';
import {
  applyRequest,
  type CommittedState,
  createGroupState,
  type GroupState,
  type Outcome,
  type WriteRequest,
} from './write-view.js';

export type { WriteRequest, WriteView } from './write-view.js';

/** Maximum write requests logged together in one group. */
const MAX_GROUP_REQUESTS = 256;
/** Maximum event ids a group may declare, which bounds the rows of one insert. */
const MAX_GROUP_EVENT_IDS = 20_000;

/** Erased session ids remembered in memory, so a late batch cannot recreate one. */
const MAX_ERASED_SESSION_IDS = 100_000;

/** Time a logged group may wait before its rows are loaded into DuckDB. */
const LOAD_INTERVAL_MS = 500;
/** Time after a failed load before the next attempt. */
const LOAD_RETRY_MS = 1000;
/** Size of the open log segment that starts a load at once. */
const MAX_SEGMENT_BYTES = 16 * 1024 * 1024;
/**
 * Closed segments that failed to load after which new write groups are
 * rejected. Loads close a segment every `LOAD_INTERVAL_MS`, so 20 is about
 * 10 s of failing loads. Normally at most one segment waits.
 */
const MAX_UNLOADED_SEGMENTS = 20;

/**
 * Error of a write while loads of the ingest log into DuckDB keep failing,
 * so that the collector stops acknowledging batches it cannot store.
 */
export class StorageBacklogError extends Error {
  constructor(segments: number) {
    super(
      `${segments} ingest log files are waiting because loading them into DuckDB failed; ` +
        'writes resume once a load succeeds',
    );
    this.name = 'StorageBacklogError';
  }
}

/**
 * Error of a read, erasure or purge whose load of the ingest log into DuckDB
 * failed, so it would have missed acknowledged batches. The cause is DuckDB's
 * error. A later load retries.
 */
export class StorageLoadError extends Error {
  constructor(cause: unknown) {
    super(`Loading the ingest log into DuckDB failed: ${(cause as Error)?.message ?? cause}`, {
      cause,
    });
    this.name = 'StorageLoadError';
  }
}

/** What work run by `WriteQueue.runExclusive` returns. */
export interface ExclusiveResult<T> {
  value: T;
  /** Sessions the work deleted on request; batches for them are answered as ended from then on. */
  erasedSessionIds?: readonly string[];
  /** `hashSessionId` of the same sessions, kept after the raw ids leave memory. */
  erasedSessionHmacs?: readonly string[];
}

/** Work that runs alone on the write connection, inside a transaction of its own. */
export type ExclusiveWork<T> = (connection: DuckDBConnection) => Promise<ExclusiveResult<T>>;

/**
 * Closes the database of `statements` and returns the write statements of
 * the database opened in its place.
 */
export type ReopenWork = (statements: WriteStatements) => Promise<WriteStatements>;

/** Options of `WriteQueue`. */
export interface WriteQueueOptions {
  /** Returns the sequence number of a new audit entry. */
  nextAuditSeq(): number;
  /** The log that write groups are appended to before their promises settle. */
  log: IngestLog;
  /** The event ids of live sessions, stored or logged. */
  liveEventIds: LiveEventIndex;
  /** Receives an error of a background load, which the next load retries. */
  onLoadError?: (error: unknown) => void;
  /** Receives the number of new events of each group once it is in the log. */
  onEventsLogged?: (count: number) => void;
  /** Closed segments waiting for a load at which writes are rejected. @default 20 */
  maxUnloadedSegments?: number;
  /** `hashSessionId` of the sessions erased before this queue started. */
  erasedSessionHmacs?: Iterable<string>;
  /** Returns the `hashSessionId` of a session id, to find it among the erased ones. */
  hashSessionId?: (sessionId: string) => string;
}

interface Settlers {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

interface PendingWrite extends Settlers {
  request: WriteRequest<unknown>;
}

interface PendingExclusive extends Settlers {
  work: ExclusiveWork<unknown>;
}

interface PendingReopen extends Settlers {
  reopen: ReopenWork;
}

type Pending = PendingWrite | PendingExclusive | PendingReopen;

/** Sessions and audit entries of the groups in one log segment, kept until the segment is loaded. */
interface SegmentRows {
  sessions: Map<string, SessionRow>;
  audit: AuditRow[];
}

/**
 * Serializes every write, one group of requests at a time.
 *
 * Requests that arrive while a group is written join the next group. A group
 * is appended to the ingest log and synced to disk before its promises
 * settle. In the background, every `LOAD_INTERVAL_MS` or when `sync` is
 * called, the closed log segments are loaded into DuckDB in one transaction
 * while new groups go on into the next segment.
 *
 * This process has the only lock on the file, so between loads the state in
 * memory is the truth. It consists of the sessions DuckDB does not have yet
 * (never evicted before their load), a cache of recent sessions and the ids
 * of every live session's events. Groups read DuckDB only for sessions in
 * neither, whose latest state a load has committed.
 */
export class WriteQueue {
  #statements: WriteStatements;
  readonly #nextAuditSeq: () => number;
  readonly #pending: Pending[] = [];
  readonly #log: IngestLog;
  readonly #liveEventIds: LiveEventIndex;
  readonly #onLoadError: (error: unknown) => void;
  readonly #onEventsLogged: (count: number) => void;
  readonly #maxUnloadedSegments: number;
  readonly #sessionCache = new BoundedCache<string, SessionRow>(10_000);
  readonly #erasedSessionIds = new BoundedCache<string, true>(MAX_ERASED_SESSION_IDS);
  readonly #erasedSessionHmacs: Set<string>;
  readonly #hashSessionId: ((sessionId: string) => string) | undefined;
  /** Latest state of each session that a logged group changed, until a load writes it to DuckDB. */
  readonly #unloadedSessions = new Map<string, SessionRow>();
  /** Rows of each log segment that is not loaded yet, by segment sequence number. */
  readonly #segmentRows = new Map<number, SegmentRows>();
  /** Closed segments waiting for a load, in order. */
  #closedSegments: LogSegment[] = [];
  /** Loads and exclusive work, which use the write connection one at a time. */
  #connectionTasks: Promise<unknown> = Promise.resolve();
  #isLoadScheduled = false;
  /** The group being appended and remembered, which a load waits for after closing its segment. */
  #groupInFlight: Promise<void> = Promise.resolve();
  #loadTimer: NodeJS.Timeout | undefined;
  #loggedSince: number | undefined;
  #draining: Promise<void> = Promise.resolve();
  #isDraining = false;
  #isClosed = false;

  constructor(statements: WriteStatements, options: WriteQueueOptions) {
    this.#statements = statements;
    this.#nextAuditSeq = options.nextAuditSeq;
    this.#log = options.log;
    this.#liveEventIds = options.liveEventIds;
    this.#onLoadError = options.onLoadError ?? (() => {});
    this.#onEventsLogged = options.onEventsLogged ?? (() => {});
    this.#maxUnloadedSegments = options.maxUnloadedSegments ?? MAX_UNLOADED_SEGMENTS;
    this.#erasedSessionHmacs = new Set(options.erasedSessionHmacs ?? []);
    this.#hashSessionId = options.hashSessionId;
  }

  /**
   * Loads the segments an earlier run left in the log before any other
   * write. Call it once, right after creating the queue.
   */
  async recover(segments: readonly RecoveredSegment[]): Promise<void> {
    // One file at a time, so the files before one that cannot load are loaded and deleted.
    for (const segment of segments) {
      try {
        const rows = this.#rowsOf(segment.seq);
        for (const line of segment.groupLines) {
          const { sessions, audit } = JSON.parse(line) as GroupLine;
          for (const row of sessions) {
            rows.sessions.set(row.id, row);
            this.#unloadedSessions.set(row.id, row);
          }
          rows.audit.push(...audit);
        }
        this.#closedSegments.push({ seq: segment.seq, path: segment.path });
        await this.sync();
      } catch (error) {
        const message =
          `Cannot load the ingest log file ${segment.path} left by the last run: ` +
          `${(error as Error).message}. Move the file out of the folder to start without its ` +
          'batches, which are then lost';
        throw new Error(message, { cause: error });
      }
    }
  }

  /** Resolves once every group whose promise settled before the call is loaded into DuckDB. */
  sync(): Promise<void> {
    return this.#onConnection(() => this.#load());
  }

  /** Queues a request and resolves with its `apply` result once its group is in the log. */
  transact<T>(request: WriteRequest<T>): Promise<T> {
    return this.#enqueue<T>((settlers) => ({ ...settlers, request }));
  }

  #enqueue<T>(create: (settlers: Settlers) => Pending): Promise<T> {
    if (this.#isClosed) return Promise.reject(new Error('storage is closed'));

    return new Promise<T>((resolve, reject) => {
      this.#pending.push(create({ resolve: resolve as (value: unknown) => void, reject }));
      if (!this.#isDraining) {
        this.#isDraining = true;
        this.#draining = this.#drain();
      }
    });
  }

  /**
   * Queues work that runs alone between write groups, such as a purge or an
   * erasure, after loading every logged group, and resolves with its value
   * after its COMMIT. The session cache is cleared afterwards, because the
   * work may have changed any row.
   */
  runExclusive<T>(work: ExclusiveWork<T>): Promise<T> {
    return this.#enqueue<T>((settlers) => ({ ...settlers, work }));
  }

  /**
   * Queues `work`, which runs alone between write groups once every logged
   * group is loaded, and then writes with the statements it returns. The
   * state in memory stays, because the reopened database contains the same rows.
   */
  reopen(work: ReopenWork): Promise<void> {
    return this.#enqueue<void>((settlers) => ({ ...settlers, reopen: work }));
  }

  /** Returns a copy of the current state of a session, if held in memory. */
  cachedSession(id: string): SessionRow | undefined {
    const row = this.#unloadedSessions.get(id) ?? this.#sessionCache.get(id);
    return row === undefined ? undefined : { ...row };
  }

  /**
   * Rejects new requests, waits until queued requests have settled, loads
   * the log into DuckDB and closes the appenders. A failed load leaves its
   * segments for the next start.
   */
  async close(): Promise<void> {
    this.#isClosed = true;
    clearTimeout(this.#loadTimer);
    await this.#draining;
    try {
      await this.sync();
    } finally {
      await this.#log.close();
      await this.#statements.close();
    }
  }

  /** Runs a task on the write connection after the tasks queued before it. */
  #onConnection<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#connectionTasks.then(task);
    this.#connectionTasks = result.catch(() => {});
    return result;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const first = this.#pending[0]!;
        if ('reopen' in first) {
          this.#pending.shift();
          await this.#runReopen(first);
        } else if ('work' in first) {
          this.#pending.shift();
          await this.#runExclusive(first);
        } else {
          await this.#runGroup(this.#takeGroup());
        }
      }
    } finally {
      // Cleared in the same tick as the last empty check, so no request waits without a drain.
      this.#isDraining = false;
    }
  }

  async #runExclusive(item: PendingExclusive): Promise<void> {
    try {
      const result = await this.#onConnection(async () => {
        // The work reads and deletes rows, so every logged group must be in DuckDB first.
        await this.#load();
        return this.#statements.runInTransaction(item.work);
      });
      for (const id of result.erasedSessionIds ?? []) {
        this.#erasedSessionIds.set(id, true);
        this.#liveEventIds.forgetSession(id);
      }
      for (const hmac of result.erasedSessionHmacs ?? []) this.#erasedSessionHmacs.add(hmac);
      item.resolve(result.value);
    } catch (error) {
      item.reject(error);
    } finally {
      this.#sessionCache.clear();
    }
  }

  async #runReopen(item: PendingReopen): Promise<void> {
    try {
      await this.#onConnection(async () => {
        await this.#load();
        this.#statements = await item.reopen(this.#statements);
      });
      item.resolve(undefined);
    } catch (error) {
      item.reject(error);
    }
  }

  /** Takes the write requests at the head of the queue, up to the first exclusive work or reopen. */
  #takeGroup(): PendingWrite[] {
    let eventIds = 0;
    let count = 0;
    for (const item of this.#pending) {
      if (!('request' in item)) break;
      eventIds += item.request.eventIds.length;
      if (count > 0 && (count >= MAX_GROUP_REQUESTS || eventIds > MAX_GROUP_EVENT_IDS)) break;
      count += 1;
    }
    return this.#pending.splice(0, count) as PendingWrite[];
  }

  async #runGroup(group: PendingWrite[]): Promise<void> {
    const state = createGroupState();
    let outcomes: Outcome[];
    try {
      if (this.#closedSegments.length >= this.#maxUnloadedSegments) {
        throw new StorageBacklogError(this.#closedSegments.length);
      }
      await this.#loadSessions(group, state);
      const committed = this.#committedState(state);
      outcomes = group.map((item) => applyRequest(item.request, state, committed));
      const logged = this.#logGroup(state);
      this.#groupInFlight = logged.then(
        () => {},
        () => {},
      );
      await logged;
    } catch (error) {
      for (const item of group) item.reject(error);
      return;
    }

    if (state.events.size > 0) this.#onEventsLogged(state.events.size);
    group.forEach((item, index) => {
      const outcome = outcomes[index]!;
      if (outcome.isOk) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
    if (this.#isLoadDue()) this.#scheduleLoad();
  }

  /** Appends a group to the log, unless it wrote nothing, and copies it into the state in memory. */
  async #logGroup(state: GroupState): Promise<void> {
    if (state.sessions.size === 0 && state.events.size === 0 && state.audit.length === 0) {
      this.#remember(state, undefined);
      return;
    }

    const sessions = [...state.sessions.values()];
    const text = formatGroup(state.events.values(), { sessions, audit: state.audit });
    const seq = await this.#log.append(text);
    this.#remember(state, seq);
    this.#loggedSince ??= Date.now();
    // A quiet period still loads the group within the interval.
    this.#scheduleLoadIn(LOAD_INTERVAL_MS);
  }

  /** Starts a background load after `delayMs`, unless a timer for one is already set. */
  #scheduleLoadIn(delayMs: number): void {
    this.#loadTimer ??= setTimeout(() => {
      this.#loadTimer = undefined;
      this.#scheduleLoad();
    }, delayMs);
    this.#loadTimer.unref();
  }

  #isLoadDue(): boolean {
    if (this.#loggedSince === undefined) return false;
    const age = Date.now() - this.#loggedSince;
    return age >= LOAD_INTERVAL_MS || this.#log.openBytes >= MAX_SEGMENT_BYTES;
  }

  /** Starts a background load unless one is waiting to start. */
  #scheduleLoad(): void {
    if (this.#isLoadScheduled || this.#isClosed) return;
    this.#isLoadScheduled = true;
    this.#onConnection(() => {
      this.#isLoadScheduled = false;
      return this.#load();
    }).catch((error: unknown) => this.#onLoadError(error));
  }

  /**
   * Closes the open segment and loads every closed one into DuckDB in one
   * transaction, then deletes their files. On failure the segments and the
   * state in memory stay, and the next load tries them again. Runs only as
   * a connection task.
   */
  async #load(): Promise<void> {
    clearTimeout(this.#loadTimer);
    this.#loadTimer = undefined;
    this.#loggedSince = undefined;
    this.#closedSegments.push(...(await this.#log.rotate()));
    // The group appended last may still be copying itself into the rows of its segment.
    await this.#groupInFlight;
    const segments = this.#closedSegments;
    if (segments.length === 0) return;

    const sessions = new Map<string, SessionRow>();
    const audit: AuditRow[] = [];
    for (const { seq } of segments) {
      const rows = this.#segmentRows.get(seq);
      for (const [id, row] of rows?.sessions ?? []) sessions.set(id, row);
      audit.push(...(rows?.audit ?? []));
    }
    try {
      await this.#log.prepare(segments);
      await this.#statements.loadLog(segments, { sessions: [...sessions.values()], audit });
    } catch (error) {
      await this.#statements.rollback();
      // Retried without waiting for a write, which a backlog of failed loads rejects.
      this.#scheduleLoadIn(LOAD_RETRY_MS);
      throw new StorageLoadError(error);
    }

    this.#closedSegments = [];
    for (const { seq } of segments) this.#segmentRows.delete(seq);
    for (const [id, row] of sessions) {
      // A group logged during the load may have changed the session again.
      if (this.#unloadedSessions.get(id) !== row) continue;
      this.#unloadedSessions.delete(id);
      this.#sessionCache.set(id, row);
    }
    await this.#log.remove(segments);
  }

  #rowsOf(seq: number): SegmentRows {
    let rows = this.#segmentRows.get(seq);
    if (!rows) {
      rows = { sessions: new Map(), audit: [] };
      this.#segmentRows.set(seq, rows);
    }
    return rows;
  }

  /**
   * Loads the sessions the group declares that memory does not hold, and
   * the live sessions of every declared user. It copies what memory contains
   * first, because a load that commits during the reads below moves
   * sessions from memory into DuckDB after the reads took their snapshot.
   */
  async #loadSessions(group: PendingWrite[], state: GroupState): Promise<void> {
    const ids = new Set<string>();
    const userIds = new Set<string>();
    for (const { request } of group) {
      for (const id of request.sessionIds) {
        const row = this.#unloadedSessions.get(id) ?? this.#sessionCache.get(id);
        if (row) state.loadedSessions.set(id, row);
        else ids.add(id);
      }
      for (const userId of request.userIds ?? []) userIds.add(userId);
    }
    for (const userId of userIds) state.userSessionIds.set(userId, new Set());
    for (const row of this.#unloadedSessions.values()) {
      if (row.userId === null || !userIds.has(row.userId)) continue;
      state.userSessionIds.get(row.userId)!.add(row.id);
      state.loadedSessions.set(row.id, row);
    }

    for (const id of ids) state.loadedSessions.set(id, null);
    for (const row of await this.#statements.loadSessions([...ids])) {
      state.loadedSessions.set(row.id, row);
    }
    for (const row of await this.#statements.loadLiveSessionsOfUsers([...userIds])) {
      state.userSessionIds.get(row.userId ?? '')?.add(row.id);
      // A copy in memory is at least as new as DuckDB's row.
      if (!state.loadedSessions.has(row.id)) {
        const current = this.#unloadedSessions.get(row.id) ?? this.#sessionCache.get(row.id);
        state.loadedSessions.set(row.id, current ?? row);
      }
    }
  }

  /** Returns what the requests of a group read of the state before the group. */
  #committedState(state: GroupState): CommittedState {
    return {
      session: (id) => {
        const loaded = state.loadedSessions.get(id);
        if (loaded !== undefined) return loaded ?? undefined;
        return this.#unloadedSessions.get(id) ?? this.#sessionCache.get(id);
      },
      hasLiveEvent: (sessionId, id) => this.#liveEventIds.has(sessionId, id),
      isErased: (id) => this.#erasedSessionIds.has(id) || this.#isErasedBefore(id),
      nextAuditSeq: this.#nextAuditSeq,
    };
  }

  /** Returns whether an erasure stored the session's HMAC, in this run or an earlier one. */
  #isErasedBefore(sessionId: string): boolean {
    if (this.#erasedSessionHmacs.size === 0 || !this.#hashSessionId) return false;
    return this.#erasedSessionHmacs.has(this.#hashSessionId(sessionId));
  }

  /** Copies a group into the state in memory. `seq` is the log segment it was appended to. */
  #remember(state: GroupState, seq: number | undefined): void {
    for (const [id, row] of state.loadedSessions) {
      if (row && !this.#unloadedSessions.has(id)) this.#sessionCache.set(id, row);
    }
    if (seq !== undefined) {
      const rows = this.#rowsOf(seq);
      for (const [id, row] of state.sessions) {
        rows.sessions.set(id, row);
        this.#unloadedSessions.set(id, row);
      }
      rows.audit.push(...state.audit);
    }
    for (const row of state.events.values()) this.#liveEventIds.add(row.sessionId, row.id);
    // An ended session accepts no event, so its ids cannot come again.
    for (const row of state.sessions.values()) {
      if (row.endedAt !== null) this.#liveEventIds.forgetSession(row.id);
    }
  }
}
