import { createStore, delMany, entries, set, type UseStore } from 'idb-keyval';
import type { SessionEventInput } from '../../shared/src/index.js';

/** One event waiting for delivery, with the batch fields it must be sent with. */
export interface QueuedEvent {
  sessionId: string;
  tabId: string;
  userId?: string;
  event: SessionEventInput & { id: string };
  /** When the event was queued, in epoch ms. */
  savedAt: number;
}

/** Events waiting for delivery, in memory and in IndexedDB until the collector stores them. */
export interface EventQueue {
  push(item: QueuedEvent): void;
  size(): number;
  /** Returns up to `max` oldest events that share a session and tab, without removing them. */
  peekBatch(max: number): QueuedEvent[];
  /** Removes events from memory and from IndexedDB, after a 2xx reply or a final rejection. */
  remove(items: QueuedEvent[]): void;
  /** Removes every event of session `sessionId`, because the collector ended it. */
  dropSession(sessionId: string): void;
  /**
   * Takes every event out of memory for a beacon but keeps them in IndexedDB, since a
   * beacon gets no reply; `recover` sends them again later and the collector drops duplicates.
   */
  takeAll(): QueuedEvent[];
  /** Loads stored events that are not in memory and pass `isOrphan` into the queue. */
  recover(isOrphan: (item: QueuedEvent) => boolean): Promise<number>;
}

/**
 * Creates the queue. IndexedDB can be missing, blocked (private windows, some WebViews) or
 * fail at any call; the queue then keeps events in memory only and rejects nothing.
 */
export function createEventQueue(onStorageError: (error: unknown) => void): EventQueue {
  let items: QueuedEvent[] = [];
  let store: UseStore | undefined;

  const persist = async (action: (store: UseStore) => Promise<unknown>) => {
    if (!store) return;
    try {
      await action(store);
    } catch (error) {
      // Also catches the synchronous throw of idb-keyval when indexedDB is missing.
      store = undefined;
      onStorageError(error);
    }
  };
  const forget = (gone: QueuedEvent[]) => {
    const ids = new Set(gone.map((item) => item.event.id));

    items = items.filter((item) => !ids.has(item.event.id));
    if (ids.size) void persist((db) => delMany([...ids], db));
  };

  try {
    store = createStore('process-sessions', 'queue');
  } catch (error) {
    onStorageError(error);
  }

  return {
    push(item) {
      items.push(item);
      void persist((db) => set(item.event.id, item, db));
    },
    size: () => items.length,
    peekBatch(max) {
      const first = items[0];
      const same = (item: QueuedEvent) => item.sessionId === first?.sessionId && item.tabId === first.tabId;

      return items.filter(same).slice(0, max);
    },
    remove: forget,
    dropSession: (sessionId) => forget(items.filter((item) => item.sessionId === sessionId)),
    takeAll() {
      const taken = items;
      items = [];

      return taken;
    },
    async recover(isOrphan) {
      let found: QueuedEvent[] = [];
      await persist(async (db) => {
        const known = new Set(items.map((item) => item.event.id));
        found = (await entries<string, QueuedEvent>(db)).map(([, item]) => item);
        found = found.filter((item) => item?.event && !known.has(item.event.id) && isOrphan(item));
      });
      items.push(...found);

      return found.length;
    },
  };
}
