/** A listener for one event name of `T`. */
export type Listener<T, K extends keyof T> = (payload: T[K]) => void;

/** A small typed event emitter whose listeners cannot break the caller. */
export interface Emitter<T> {
  /** Adds a listener and returns the function that removes it. */
  on<K extends keyof T>(name: K, listener: Listener<T, K>): () => void;
  /** Calls every listener of `name`, passing each error thrown to `onListenerError`. */
  emit<K extends keyof T>(name: K, payload: T[K]): void;
  /** Delivers the events emitted while held, then delivers at once. */
  release(): void;
}

/**
 * Creates an emitter that queues events until `release()`, so listeners added right after
 * a factory returns still receive what it emitted. A listener that throws is reported to
 * `onListenerError`.
 */
export function createEmitter<T>(onListenerError: (error: unknown) => void): Emitter<T> {
  const listeners = new Map<keyof T, Set<(payload: never) => void>>();
  let held: (() => void)[] | undefined = [];

  const deliver = <K extends keyof T>(name: K, payload: T[K]) => {
    for (const listener of [...(listeners.get(name) ?? [])]) {
      try {
        (listener as Listener<T, K>)(payload);
      } catch (error) {
        onListenerError(error);
      }
    }
  };

  return {
    on(name, listener) {
      const set = listeners.get(name) ?? new Set();
      listeners.set(name, set);
      set.add(listener);

      return () => set.delete(listener);
    },
    emit(name, payload) {
      if (held) held.push(() => deliver(name, payload));
      else deliver(name, payload);
    },
    release() {
      const pending = held ?? [];
      held = undefined;
      pending.forEach((send) => send());
    },
  };
}
