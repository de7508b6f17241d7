import { describe, expect, it } from 'vitest';
import { BoundedCache } from './bounded-cache.js';

describe('BoundedCache', () => {
  it('cache never exceeds max size', () => {
    for (const maxSize of [1, 2, 3, 10, 11]) {
      const cache = new BoundedCache<number, number>(maxSize);
      let largest = 0;

      for (let key = 0; key < 100; key += 1) {
        cache.set(key, key);
        largest = Math.max(largest, cache.size);
      }

      expect(largest, `maxSize ${maxSize}`).toBeLessThanOrEqual(maxSize);
    }
  });

  it('cache keeps newest half', () => {
    const cache = new BoundedCache<number, string>(10);

    for (let key = 0; key < 47; key += 1) cache.set(key, `value ${key}`);

    for (let key = 42; key < 47; key += 1) expect(cache.get(key)).toBe(`value ${key}`);
    expect(cache.has(0)).toBe(false);
    expect(cache.get(0)).toBeUndefined();
  });

  it('rewrite keeps an old key', () => {
    const cache = new BoundedCache<string, number>(4);
    cache.set('kept', 1);
    cache.set('a', 2);

    cache.set('kept', 3);
    cache.set('b', 4);
    cache.set('c', 5);

    expect(cache.get('kept')).toBe(3);
    expect(cache.has('a')).toBe(false);
    expect(cache.size).toBeLessThanOrEqual(4);
  });

  it('clear removes every entry', () => {
    const cache = new BoundedCache<number, number>(4);
    for (let key = 0; key < 6; key += 1) cache.set(key, key);

    cache.clear();

    expect(cache.size).toBe(0);
    expect(cache.has(5)).toBe(false);
  });

  it('invalid max size throws', () => {
    expect(() => new BoundedCache(0)).toThrow('maxSize must be a positive integer, received 0');
    expect(() => new BoundedCache(2.5)).toThrow('received 2.5');
  });
});
