import type { SessionState } from '../../shared/src/index.js';

/** Callbacks of one stream subscriber. */
export interface StreamSubscriber {
  /** Receives every published state of the subscribed session. */
  onState(state: SessionState): void;
  /** Called once when the hub closes, so the stream can end. */
  onClose(): void;
}

/** In-memory publish/subscribe of session state changes, keyed by session id. */
export class StreamHub {
  readonly #subscribers = new Map<string, Set<StreamSubscriber>>();
  readonly #watchers = new Set<StreamSubscriber>();
  #isClosed = false;

  /** Delivers a state to every subscriber of its session and to every watcher. */
  publish(state: SessionState): void {
    for (const watcher of [...this.#watchers]) watcher.onState(state);
    const subscribers = this.#subscribers.get(state.id);
    if (!subscribers) return;
    for (const subscriber of [...subscribers]) subscriber.onState(state);
  }

  /** Adds a watcher of every published state, of any session, and returns the function that removes it. */
  watchAll(watcher: StreamSubscriber): () => void {
    if (this.#isClosed) {
      watcher.onClose();
      return () => {};
    }
    this.#watchers.add(watcher);
    return () => {
      this.#watchers.delete(watcher);
    };
  }

  /** Adds a subscriber and returns the function that removes it. */
  subscribe(sessionId: string, subscriber: StreamSubscriber): () => void {
    if (this.#isClosed) {
      subscriber.onClose();
      return () => {};
    }

    let subscribers = this.#subscribers.get(sessionId);
    if (!subscribers) {
      subscribers = new Set();
      this.#subscribers.set(sessionId, subscribers);
    }
    subscribers.add(subscriber);

    return () => {
      subscribers.delete(subscriber);
      if (subscribers.size === 0 && this.#subscribers.get(sessionId) === subscribers) {
        this.#subscribers.delete(sessionId);
      }
    };
  }

  /** Returns the number of subscribers, of one session or of all. */
  subscriberCount(sessionId?: string): number {
    if (sessionId !== undefined) return this.#subscribers.get(sessionId)?.size ?? 0;
    let count = 0;
    for (const subscribers of this.#subscribers.values()) count += subscribers.size;
    return count;
  }

  /** Ends every subscription; later subscribers are closed at once. */
  close(): void {
    this.#isClosed = true;
    const all = [...this.#subscribers.values()].flatMap((subscribers) => [...subscribers]);
    all.push(...this.#watchers);
    this.#subscribers.clear();
    this.#watchers.clear();
    for (const subscriber of all) subscriber.onClose();
  }
}
