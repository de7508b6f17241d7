import type { DuckDBConnection } from '@duckdb/node-api';
import { BoundedCache } from './bounded-cache.js';
import type { SessionRow } from './rows.js';
import type { GroupRows, WriteStatements } from './write-statements.js';
import {
  applyRequest,
  type CommittedState,
  createGroupState,
  type GroupState,
  type Outcome,
  type WriteRequest,
} from './write-view.js';

export type { WriteRequest, WriteView } from './write-view.js';

/** Maximum write requests committed together in one transaction. */
const MAX_GROUP_REQUESTS = 256;
/** Maximum event ids a group may declare, which bounds the rows of one insert. */
const MAX_GROUP_EVENT_IDS = 20_000;

/** Erased session ids remembered in memory, so a late batch cannot recreate one. */
const MAX_ERASED_SESSION_IDS = 100_000;

/** What work run by `WriteQueue.runExclusive` returns. */
export interface ExclusiveResult<T> {
  value: T;
  /** Sessions the work deleted on request; batches for them are answered as ended from then on. */
  erasedSessionIds?: readonly string[];
}

/** Work that runs alone on the write connection, inside a transaction of its own. */
export type ExclusiveWork<T> = (connection: DuckDBConnection) => Promise<ExclusiveResult<T>>;

/** Options of `WriteQueue`. */
export interface WriteQueueOptions {
  /** Returns the sequence number of a new audit entry. */
  nextAuditSeq(): number;
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

type Pending = PendingWrite | PendingExclusive;

/**
 * Serializes every write through one connection, one transaction at a time.
 *
 * Requests that arrive while a transaction runs are committed together in the
 * next one (group commit); each promise settles only after its COMMIT. As this
 * process holds the only lock on the file, the queue also keeps the committed
 * state of recent sessions and event ids in memory to skip most loads.
 */
export class WriteQueue {
  readonly #statements: WriteStatements;
  readonly #nextAuditSeq: () => number;
  readonly #pending: Pending[] = [];
  readonly #sessionCache = new BoundedCache<string, SessionRow>(10_000);
  readonly #recentEventIds = new BoundedCache<string, true>(100_000);
  readonly #erasedSessionIds = new BoundedCache<string, true>(MAX_ERASED_SESSION_IDS);
  #draining: Promise<void> = Promise.resolve();
  #isDraining = false;
  #isClosed = false;

  constructor(statements: WriteStatements, options: WriteQueueOptions) {
    this.#statements = statements;
    this.#nextAuditSeq = options.nextAuditSeq;
  }

  /** Queues a request and resolves with its `apply` result once its transaction commits. */
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
   * erasure, and resolves with its value after its COMMIT. The session cache
   * is cleared afterwards, because the work may have changed any row.
   */
  runExclusive<T>(work: ExclusiveWork<T>): Promise<T> {
    return this.#enqueue<T>((settlers) => ({ ...settlers, work }));
  }

  /** Returns a copy of the cached committed state of a session, if cached. */
  cachedSession(id: string): SessionRow | undefined {
    const row = this.#sessionCache.get(id);
    return row === undefined ? undefined : { ...row };
  }

  /** Rejects new requests, waits until queued requests have settled and closes the appenders. */
  async close(): Promise<void> {
    this.#isClosed = true;
    await this.#draining;
    await this.#statements.close();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const first = this.#pending[0]!;
        if ('work' in first) {
          this.#pending.shift();
          await this.#runExclusive(first);
        } else {
          await this.#runGroup(this.#takeGroup(), true);
        }
      }
    } finally {
      // Cleared in the same tick as the last empty check, so no request waits without a drain.
      this.#isDraining = false;
    }
  }

  async #runExclusive(item: PendingExclusive): Promise<void> {
    try {
      const result = await this.#statements.runInTransaction(item.work);
      for (const id of result.erasedSessionIds ?? []) this.#erasedSessionIds.set(id, true);
      item.resolve(result.value);
    } catch (error) {
      item.reject(error);
    } finally {
      this.#sessionCache.clear();
    }
  }

  /** Takes the write requests at the head of the queue, up to the first exclusive work. */
  #takeGroup(): PendingWrite[] {
    let eventIds = 0;
    let count = 0;
    for (const item of this.#pending) {
      if ('work' in item) break;
      eventIds += item.request.eventIds.length;
      if (count > 0 && (count >= MAX_GROUP_REQUESTS || eventIds > MAX_GROUP_EVENT_IDS)) break;
      count += 1;
    }
    return this.#pending.splice(0, count) as PendingWrite[];
  }

  async #runGroup(group: PendingWrite[], canSplit: boolean): Promise<void> {
    const state = createGroupState();

    let outcomes: Outcome[];
    try {
      await this.#loadSessions(group, state);
      outcomes = await this.#write(group, state);
    } catch (error) {
      if (canSplit && group.length > 1) {
        // Retry alone so that one failing request cannot fail the others.
        for (const item of group) await this.#runGroup([item], false);
      } else {
        for (const item of group) item.reject(error);
      }
      return;
    }

    this.#remember(state);
    group.forEach((item, index) => {
      const outcome = outcomes[index]!;
      if (outcome.isOk) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }

  /**
   * Applies the group and commits its writes. Event ids missing from the
   * recent-id cache are assumed new. When the insert proves some were stored,
   * the group is applied again knowing them.
   */
  async #write(group: PendingWrite[], state: GroupState): Promise<Outcome[]> {
    for (let attempt = 1; ; attempt += 1) {
      state.sessions.clear();
      state.events.clear();
      state.audit = [];
      const committed = this.#committedState(state);
      const outcomes = group.map((item) => applyRequest(item.request, state, committed));

      try {
        await this.#statements.writeGroup(this.#groupRows(state));
        return outcomes;
      } catch (error) {
        const stored = await this.#statements.rollback([...state.events.keys()]);
        if (stored.length === 0 || attempt === 2) throw error;
        for (const id of stored) state.storedEventIds.add(id);
      }
    }
  }

  #groupRows(state: GroupState): GroupRows {
    const newSessions: SessionRow[] = [];
    const changedSessions: SessionRow[] = [];
    for (const [id, row] of state.sessions) {
      const isCommitted = this.#sessionCache.has(id) || Boolean(state.loadedSessions.get(id));
      (isCommitted ? changedSessions : newSessions).push(row);
    }
    return {
      newSessions,
      changedSessions,
      events: [...state.events.values()],
      audit: state.audit,
    };
  }

  /**
   * Loads the sessions the group declares that the cache does not hold, and
   * the live sessions of every declared user.
   */
  async #loadSessions(group: PendingWrite[], state: GroupState): Promise<void> {
    const ids = new Set<string>();
    const userIds = new Set<string>();
    for (const { request } of group) {
      for (const id of request.sessionIds) {
        if (!this.#sessionCache.has(id)) ids.add(id);
      }
      for (const userId of request.userIds ?? []) userIds.add(userId);
    }

    for (const id of ids) state.loadedSessions.set(id, null);
    for (const row of await this.#statements.loadSessions([...ids])) {
      state.loadedSessions.set(row.id, row);
    }

    for (const userId of userIds) state.userSessionIds.set(userId, new Set());
    for (const row of await this.#statements.loadLiveSessionsOfUsers([...userIds])) {
      state.userSessionIds.get(row.userId ?? '')?.add(row.id);
      if (!this.#sessionCache.has(row.id)) state.loadedSessions.set(row.id, row);
    }
  }

  /** Returns what the requests of a group read of the committed state. */
  #committedState(state: GroupState): CommittedState {
    return {
      session: (id) => this.#sessionCache.get(id) ?? state.loadedSessions.get(id) ?? undefined,
      hasRecentEvent: (id) => this.#recentEventIds.has(id),
      isErased: (id) => this.#erasedSessionIds.has(id),
      nextAuditSeq: this.#nextAuditSeq,
    };
  }

  /** Copies a committed group into the caches. */
  #remember(state: GroupState): void {
    for (const [id, row] of state.loadedSessions) {
      if (row) this.#sessionCache.set(id, row);
    }
    for (const [id, row] of state.sessions) this.#sessionCache.set(id, row);
    for (const id of state.storedEventIds) this.#recentEventIds.set(id, true);
    for (const id of state.events.keys()) this.#recentEventIds.set(id, true);
  }
}
