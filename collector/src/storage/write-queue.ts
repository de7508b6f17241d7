import type { EventRow, SessionRow } from './rows.js';
import { BoundedCache } from './bounded-cache.js';
import type { GroupRows, WriteStatements } from './write-statements.js';

/** Maximum write requests committed together in one transaction. */
const MAX_GROUP_REQUESTS = 256;
/** Maximum event ids a group may declare, which bounds the rows of one insert. */
const MAX_GROUP_EVENT_IDS = 20_000;

/** The state a write request reads and the changes it records. */
export interface WriteView {
  /** Returns a copy of the session, or undefined when it does not exist. */
  getSession(id: string): SessionRow | undefined;
  /**
   * Returns whether an event with this id is in the recent-id cache, was found
   * stored by an earlier attempt, or is written in this group.
   */
  hasEvent(id: string): boolean;
  /** Inserts or replaces a session. */
  putSession(row: SessionRow): void;
  /** Inserts an event, unless its id is already stored. */
  addEvent(row: EventRow): void;
}

/** A unit of work for `WriteQueue.transact`. */
export interface WriteRequest<T> {
  /** Every session id `apply` may read, so that the queue can load them first. */
  sessionIds: readonly string[];
  /** Every event id `apply` may pass to `hasEvent`. */
  eventIds: readonly string[];
  /**
   * Computes the changes from the current state. It must be synchronous and
   * have no side effect beyond the view, because the queue may call it again.
   * That happens when its group fails and is retried request by request, and
   * when an event that `hasEvent` reported as new turns out to be stored.
   */
  apply(view: WriteView): T;
}

interface Pending {
  request: WriteRequest<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** State of one group while it is applied and written. */
interface GroupState {
  loadedSessions: Map<string, SessionRow | null>;
  storedEventIds: Set<string>;
  sessions: Map<string, SessionRow>;
  events: Map<string, EventRow>;
}

type Outcome = { isOk: true; value: unknown } | { isOk: false; error: unknown };

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
  readonly #pending: Pending[] = [];
  readonly #sessionCache = new BoundedCache<string, SessionRow>(10_000);
  readonly #recentEventIds = new BoundedCache<string, true>(100_000);
  #draining: Promise<void> = Promise.resolve();
  #isDraining = false;
  #isClosed = false;

  constructor(statements: WriteStatements) {
    this.#statements = statements;
  }

  /** Queues a request and resolves with its `apply` result once its transaction commits. */
  transact<T>(request: WriteRequest<T>): Promise<T> {
    if (this.#isClosed) return Promise.reject(new Error('storage is closed'));

    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ request, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#isDraining) {
        this.#isDraining = true;
        this.#draining = this.#drain();
      }
    });
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
    this.#statements.close();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        await this.#runGroup(this.#takeGroup(), true);
      }
    } finally {
      // Cleared in the same tick as the last empty check, so no request waits without a drain.
      this.#isDraining = false;
    }
  }

  #takeGroup(): Pending[] {
    let eventIds = 0;
    let count = 0;
    for (const item of this.#pending) {
      eventIds += item.request.eventIds.length;
      if (count > 0 && (count >= MAX_GROUP_REQUESTS || eventIds > MAX_GROUP_EVENT_IDS)) break;
      count += 1;
    }
    return this.#pending.splice(0, count);
  }

  async #runGroup(group: Pending[], canSplit: boolean): Promise<void> {
    const state: GroupState = {
      loadedSessions: new Map(),
      storedEventIds: new Set(),
      sessions: new Map(),
      events: new Map(),
    };

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
  async #write(group: Pending[], state: GroupState): Promise<Outcome[]> {
    for (let attempt = 1; ; attempt += 1) {
      state.sessions.clear();
      state.events.clear();
      const outcomes = group.map((item) => this.#apply(item.request, state));

      try {
        await this.#statements.writeGroup(this.#groupRows(state));
        return outcomes;
      } catch (error) {
        const stored = await this.#statements.rollback();
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
    return { newSessions, changedSessions, events: [...state.events.values()] };
  }

  /** Loads the sessions the group declares that the cache does not hold. */
  async #loadSessions(group: Pending[], state: GroupState): Promise<void> {
    const ids = new Set<string>();
    for (const { request } of group) {
      for (const id of request.sessionIds) {
        if (!this.#sessionCache.has(id)) ids.add(id);
      }
    }

    for (const id of ids) state.loadedSessions.set(id, null);
    for (const row of await this.#statements.loadSessions([...ids])) {
      state.loadedSessions.set(row.id, row);
    }
  }

  /** Runs one request against the group state; its changes join the group only if it succeeds. */
  #apply(request: WriteRequest<unknown>, state: GroupState): Outcome {
    const sessionIds = new Set(request.sessionIds);
    const eventIds = new Set(request.eventIds);
    const sessions = new Map<string, SessionRow>();
    const events = new Map<string, EventRow>();

    const view: WriteView = {
      getSession: (id) => {
        if (!sessionIds.has(id)) throw new Error(`session ${id} is missing from sessionIds`);
        const row = sessions.get(id) ?? state.sessions.get(id) ?? this.#committedSession(id, state);
        return row ? { ...row } : undefined;
      },
      hasEvent: (id) => {
        if (!eventIds.has(id)) throw new Error(`event ${id} is missing from eventIds`);
        return (
          events.has(id) ||
          state.events.has(id) ||
          state.storedEventIds.has(id) ||
          this.#recentEventIds.has(id)
        );
      },
      putSession: (row) => {
        sessions.set(row.id, { ...row });
      },
      addEvent: (row) => {
        events.set(row.id, { ...row });
      },
    };

    try {
      const value = request.apply(view);
      for (const [id, row] of sessions) state.sessions.set(id, row);
      for (const [id, row] of events) state.events.set(id, row);
      return { isOk: true, value };
    } catch (error) {
      return { isOk: false, error };
    }
  }

  #committedSession(id: string, state: GroupState): SessionRow | undefined {
    return this.#sessionCache.get(id) ?? state.loadedSessions.get(id) ?? undefined;
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
