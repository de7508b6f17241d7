import { createStore, promisifyRequest, type UseStore } from 'idb-keyval';
import type { SessionEventInput } from '../../shared/src/index.js';

/** An IndexedDB call that has not settled after this long counts as failed, in ms. */
const STORAGE_TIMEOUT_MS = 5000;

/** One event waiting for delivery, with the batch fields it is sent with. */
export interface QueuedEvent {
  sessionId: string;
  tabId: string;
  userId?: string;
  userGroup?: string;
  event: SessionEventInput & { id: string };
  /** Position in the queue of the tab that created it: epoch ms × 1000 at start, plus one per event. */
  order: number;
}

/**
 * The app's undelivered events. This tab keeps its own in memory, for beacons and in case
 * IndexedDB fails. Every tab also stores them in IndexedDB, one database per app, where the
 * tab that holds the flush lock sends everyone's: see `Delivery`.
 */
export interface EventQueue {
  push(item: QueuedEvent): void;
  /** This tab's undelivered events, oldest first. */
  own(): QueuedEvent[];
  /** Tells whether IndexedDB works, so that other tabs can send this tab's events. */
  isShared(): boolean;
  /** Reads the stored events of every tab plus this tab's unstored ones, oldest first. */
  readAll(): Promise<QueuedEvent[]>;
  /** Forgets events by id; also deletes them from IndexedDB unless `isMemoryOnly`. */
  remove(ids: string[], isMemoryOnly?: boolean): void;
  /** Deletes every event of the app, in memory and stored. */
  clear(): void;
}

/**
 * Creates the queue of app `appId`. IndexedDB can be missing or blocked (private windows,
 * some WebViews), can hang, and can lose its connection. After a failure the database is
 * opened again once; after a second one the queue keeps events in memory only. Every
 * failure goes to `onStorageError` and none rejects.
 */
export function createEventQueue(appId: string, onStorageError: (error: unknown) => void): EventQueue {
  const open = () => createStore(`ps:${appId}`, 'queue');
  let items: QueuedEvent[] = [];
  let store: UseStore | undefined = open();
  let hasReopened = false;
  let order = Date.now() * 1000;

  /**
   * Runs `action` on the object store in a transaction of `mode`. It settles with the request
   * `action` returns, such as a read, or else when the transaction completes, as idb-keyval's
   * own writes do. The store's keys are event ids.
   */
  const run = async (mode: IDBTransactionMode, action: (objects: IDBObjectStore) => IDBRequest | void) => {
    while (store) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`IndexedDB timed out after ${STORAGE_TIMEOUT_MS} ms`)), STORAGE_TIMEOUT_MS);
        });
        const request = store(mode, (objects) => promisifyRequest(action(objects) ?? objects.transaction));

        return await Promise.race([request, timeout]);
      } catch (error) {
        onStorageError(error);
        store = hasReopened ? undefined : open();
        hasReopened = true;
      } finally {
        clearTimeout(timer);
      }
    }
  };

  return {
    push(item) {
      item.order = order++;
      items.push(item);
      void run('readwrite', (objects) => {
        objects.put(item, item.event.id);
      });
    },
    own: () => items,
    isShared: () => !!store,
    async readAll() {
      const stored = (((await run('readonly', (objects) => objects.getAll())) ?? []) as QueuedEvent[]).filter(isQueuedEvent);
      const storedIds = new Set(stored.map((item) => item.event.id));
      const unstored = items.filter((item) => !storedIds.has(item.event.id));

      return [...stored, ...unstored].sort((a, b) => a.order - b.order);
    },
    remove(ids, isMemoryOnly) {
      const gone = new Set(ids);

      items = items.filter((item) => !gone.has(item.event.id));
      if (!isMemoryOnly) void run('readwrite', (objects) => ids.forEach((id) => objects.delete(id)));
    },
    clear() {
      items = [];
      void run('readwrite', (objects) => {
        objects.clear();
      });
    },
  };
}

/** Skips stored values of another shape, such as a damaged or foreign entry. */
function isQueuedEvent(item: QueuedEvent | undefined): item is QueuedEvent {
  return typeof item?.order === 'number' && typeof item.event?.id === 'string';
}
