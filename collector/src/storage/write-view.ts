import type { AuditRow } from './admin-rows.js';
import type { AuditInput } from './admin-store.js';
import type { EventRow, SessionRow } from './rows.js';

/** The state a write request reads and the changes it records. */
export interface WriteView {
  /** Returns a copy of the session, or undefined when it does not exist. */
  getSession(id: string): SessionRow | undefined;
  /**
   * Returns copies of the live sessions of a user, in one app or in all, as
   * of this point in the group, including sessions written by earlier
   * requests. The user id must be in the request's `userIds`.
   */
  listLiveSessionsOfUser(userId: string, appId?: string): SessionRow[];
  /**
   * Returns whether the live session `sessionId` stored an event with this id,
   * or this group writes one for it. Other sessions' events do not count.
   */
  hasEvent(sessionId: string, id: string): boolean;
  /** Returns whether the session's data was erased on request while this process ran. */
  isErased(sessionId: string): boolean;
  /** Inserts or replaces a session. */
  putSession(row: SessionRow): void;
  /** Inserts an event, unless its session already has an event with its id. */
  addEvent(row: EventRow): void;
  /** Records an audit entry, written with the rest of the request. */
  addAudit(entry: AuditInput): void;
}

/** A unit of work for `WriteQueue.transact`. */
export interface WriteRequest<T> {
  /** Every session id `apply` may read, so that the queue can load them first. */
  sessionIds: readonly string[];
  /** Every event id `apply` may pass to `hasEvent`. */
  eventIds: readonly string[];
  /** Every user id `apply` may pass to `listLiveSessionsOfUser`. */
  userIds?: readonly string[];
  /**
   * Computes the changes from the current state. It must be synchronous and
   * have no side effect beyond the view.
   */
  apply(view: WriteView): T;
}

/** State of one group while it is applied and written. */
export interface GroupState {
  /** Stored sessions loaded for this group; null marks an id that does not exist. */
  loadedSessions: Map<string, SessionRow | null>;
  /** Ids of the live sessions of each declared user before this group. */
  userSessionIds: Map<string, Set<string>>;
  sessions: Map<string, SessionRow>;
  /** Events by `eventKey` of their session and id. */
  events: Map<string, EventRow>;
  audit: AuditRow[];
}

/** The state before its group that a request can read. */
export interface CommittedState {
  session(id: string): SessionRow | undefined;
  hasLiveEvent(sessionId: string, id: string): boolean;
  isErased(sessionId: string): boolean;
  nextAuditSeq(): number;
}

/** Result of one request: its `apply` value or the error it threw. */
export type Outcome = { isOk: true; value: unknown } | { isOk: false; error: unknown };

/**
 * Returns the key of an event in a group's maps. Event ids are unique only
 * within their session, and no id contains a NUL character.
 */
export function eventKey(sessionId: string, id: string): string {
  return `${sessionId}\u0000${id}`;
}

/** Creates the empty state of a group. */
export function createGroupState(): GroupState {
  return {
    loadedSessions: new Map(),
    userSessionIds: new Map(),
    sessions: new Map(),
    events: new Map(),
    audit: [],
  };
}

/** Runs one request against the group state; its changes join the group only if it succeeds. */
export function applyRequest(
  request: WriteRequest<unknown>,
  state: GroupState,
  committed: CommittedState,
): Outcome {
  const sessionIds = new Set(request.sessionIds);
  const eventIds = new Set(request.eventIds);
  const userIds = new Set(request.userIds ?? []);
  const sessions = new Map<string, SessionRow>();
  const events = new Map<string, EventRow>();
  const audit: AuditRow[] = [];
  const current = (id: string) =>
    sessions.get(id) ?? state.sessions.get(id) ?? committed.session(id);

  const view: WriteView = {
    getSession: (id) => {
      if (!sessionIds.has(id)) throw new Error(`session ${id} is missing from sessionIds`);
      const row = current(id);
      return row ? { ...row } : undefined;
    },
    listLiveSessionsOfUser: (userId, appId) => {
      if (!userIds.has(userId)) throw new Error(`user ${userId} is missing from userIds`);
      const ids = new Set(state.userSessionIds.get(userId));
      for (const row of [...state.sessions.values(), ...sessions.values()]) {
        if (row.userId === userId) ids.add(row.id);
      }
      const rows: SessionRow[] = [];
      for (const id of ids) {
        const row = current(id);
        const isMatch =
          row?.endedAt === null && row.userId === userId && (appId === undefined || row.appId === appId);
        if (isMatch) rows.push({ ...row });
      }
      return rows;
    },
    hasEvent: (sessionId, id) => {
      if (!eventIds.has(id)) throw new Error(`event ${id} is missing from eventIds`);
      const key = eventKey(sessionId, id);
      return events.has(key) || state.events.has(key) || committed.hasLiveEvent(sessionId, id);
    },
    isErased: (id) => committed.isErased(id),
    putSession: (row) => {
      sessions.set(row.id, { ...row });
    },
    addEvent: (row) => {
      events.set(eventKey(row.sessionId, row.id), { ...row });
    },
    addAudit: (entry) => {
      audit.push({ ...entry, seq: committed.nextAuditSeq() });
    },
  };

  try {
    const value = request.apply(view);
    for (const [id, row] of sessions) state.sessions.set(id, row);
    for (const [key, row] of events) state.events.set(key, row);
    state.audit.push(...audit);
    return { isOk: true, value };
  } catch (error) {
    return { isOk: false, error };
  }
}
