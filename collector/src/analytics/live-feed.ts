import type { EndReason, SessionState } from '../../../shared/src/index.js';
import type { SessionRow, Storage } from '../storage/index.js';
import type { StreamHub } from '../stream-hub.js';

/** Fields of a session that the live feed shows. Ids and names come from clients, so escape them. */
export interface LiveSession {
  id: string;
  appId: string;
  userId: string | null;
  userGroup: string | null;
  policyId: string | null;
  startedAt: number;
  lastSeenAt: number;
  tabsNow: number;
}

/** A change of the live sessions, with the live count after it. */
export type LiveChange =
  | { type: 'start'; live: number; session: LiveSession }
  | { type: 'end'; live: number; id: string; endReason: EndReason | null; endedAt: number | null };

/** Callbacks of one live feed listener. */
export interface LiveListener {
  onChange(change: LiveChange): void;
  /** Called once when the hub closes, so a stream can end. */
  onClose(): void;
}

/** Picks the fields the live feed shows from a session row. */
export function toLiveSession(row: SessionRow): LiveSession {
  return {
    id: row.id,
    appId: row.appId,
    userId: row.userId,
    userGroup: row.userGroup,
    policyId: row.policyId,
    startedAt: row.startedAt,
    lastSeenAt: row.lastSeenAt,
    tabsNow: row.tabsNow,
  };
}

/**
 * Tracks which sessions are live from the states the hub publishes, and notifies
 * listeners of each start and end. The first active state of an unknown
 * session is its start. Later active states (such as a policy change) are
 * not. It loads the live ids from the database on first use.
 */
export class LiveFeed {
  readonly #storage: Storage;
  readonly #hub: StreamHub;
  readonly #liveIds = new Set<string>();
  readonly #listeners = new Set<LiveListener>();
  #isClosed = false;
  #loading: Promise<void> | undefined;

  constructor(storage: Storage, hub: StreamHub) {
    this.#storage = storage;
    this.#hub = hub;
  }

  /** Number of live sessions, known once `ready` has resolved. */
  get liveCount(): number {
    return this.#liveIds.size;
  }

  /** Loads the live session ids once and starts watching the hub. */
  ready(): Promise<void> {
    this.#loading ??= this.#load();
    return this.#loading;
  }

  /** Adds a listener of starts and ends and returns the function that removes it. */
  subscribe(listener: LiveListener): () => void {
    if (this.#isClosed) {
      listener.onClose();
      return () => {};
    }
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  async #load(): Promise<void> {
    // Watch first and replay what arrived during the load, so no change between the two is lost.
    const early: SessionState[] = [];
    let isLoaded = false;
    this.#hub.watchAll({
      onState: (state) => {
        if (isLoaded) this.#apply(state);
        else early.push(state);
      },
      onClose: () => this.#close(),
    });

    for (const id of await this.#storage.analytics.listLiveIds()) this.#liveIds.add(id);
    isLoaded = true;
    for (const state of early) this.#apply(state);
  }

  #apply(state: SessionState): void {
    if (state.state === 'ended') {
      this.#liveIds.delete(state.id);
      const { id, endReason, endedAt } = state;
      this.#emit({ type: 'end', live: this.#liveIds.size, id, endReason, endedAt });
      return;
    }
    if (this.#liveIds.has(state.id)) return;

    this.#liveIds.add(state.id);
    void this.#announceStart(state.id);
  }

  async #announceStart(id: string): Promise<void> {
    const row = await this.#storage.getSession(id).catch(() => undefined);
    // An end that arrived while the row loaded was already sent, so the start is dropped.
    if (!row || !this.#liveIds.has(id)) return;
    this.#emit({ type: 'start', live: this.#liveIds.size, session: toLiveSession(row) });
  }

  #emit(change: LiveChange): void {
    for (const listener of [...this.#listeners]) listener.onChange(change);
  }

  #close(): void {
    this.#isClosed = true;
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    for (const listener of listeners) listener.onClose();
  }
}
