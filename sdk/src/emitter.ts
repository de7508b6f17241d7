/** A listener for one event name of `T`. */
export type Listener<T, K extends keyof T> = (payload: T[K]) => void;

/** A small typed event emitter whose listeners cannot break the caller. */
export interface Emitter<T> {
  /** Adds a listener and returns the function that removes it. */
  on<K extends keyof T>(name: K, listener: Listener<T, K>): () => void;
  /** Calls every listener of `name`, passing each error thrown to `onListenerError`. */
  emit<K extends keyof T>(name: K, payload: T[K]): void;
}

/** Creates an emitter; a listener that throws is reported to `onListenerError`. */
export function createEmitter<T>(onListenerError: (error: unknown) => void): Emitter<T> {
  const listeners = new Map<keyof T, Set<(payload: never) => void>>();

  return {
    on(name, listener) {
      const set = listeners.get(name) ?? new Set();
      listeners.set(name, set);
      set.add(listener);

      return () => set.delete(listener);
    },
    emit(name, payload) {
      for (const listener of [...(listeners.get(name) ?? [])]) {
        try {
          (listener as Listener<T, typeof name>)(payload);
        } catch (error) {
          onListenerError(error);
        }
      }
    },
  };
}
