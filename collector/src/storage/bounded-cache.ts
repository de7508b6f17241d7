/**
 * A Map that keeps at most `maxSize` entries and evicts the least recently
 * written entry first. Reads do not refresh an entry.
 */
export class BoundedCache<K, V> {
  readonly #entries = new Map<K, V>();
  readonly #maxSize: number;

  constructor(maxSize: number) {
    if (!Number.isInteger(maxSize) || maxSize < 1) {
      throw new Error(`maxSize must be a positive integer, received ${maxSize}`);
    }
    this.#maxSize = maxSize;
  }

  /** Number of entries. */
  get size(): number {
    return this.#entries.size;
  }

  /** Returns the value of `key`, or undefined. */
  get(key: K): V | undefined {
    return this.#entries.get(key);
  }

  /** Returns whether `key` has an entry. */
  has(key: K): boolean {
    return this.#entries.has(key);
  }

  /** Removes every entry. */
  clear(): void {
    this.#entries.clear();
  }

  /** Stores a value as the most recent entry, evicting the oldest beyond `maxSize`. */
  set(key: K, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.#maxSize) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }
}
