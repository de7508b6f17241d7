import { describe, expect, it } from 'vitest';
import { createClock } from '../test-harness.js';
import { RateLimiter } from './rate-limiter.js';

describe('RateLimiter', () => {
  it('limiter allows a minute at once', () => {
    const clock = createClock();
    const limiter = new RateLimiter({ perMinute: 3, now: clock.now });

    const results = Array.from({ length: 4 }, () => limiter.take('a'));

    expect(results.slice(0, 3).every((result) => result.isAllowed)).toBe(true);
    expect(results[3]).toEqual({ isAllowed: false, retryAfterMs: 20_000, rejections: 1 });
  });

  it('limiter refills over time', () => {
    const clock = createClock();
    const limiter = new RateLimiter({ perMinute: 60, now: clock.now });
    for (let i = 0; i < 60; i += 1) limiter.take('a');

    const empty = limiter.take('a');
    clock.advance(500);
    const halfway = limiter.take('a');
    clock.advance(500);
    const refilled = limiter.take('a');

    expect(empty).toEqual({ isAllowed: false, retryAfterMs: 1000, rejections: 1 });
    expect(halfway).toEqual({ isAllowed: false, retryAfterMs: 500, rejections: 2 });
    expect(refilled).toEqual({ isAllowed: true });
  });

  it('rejections reset after allowed request', () => {
    const clock = createClock();
    const limiter = new RateLimiter({ perMinute: 1, now: clock.now });
    limiter.take('a');
    limiter.take('a');
    clock.advance(60_000);
    limiter.take('a');

    const next = limiter.take('a');

    expect(next).toMatchObject({ isAllowed: false, rejections: 1 });
  });

  it('keys limited separately', () => {
    const limiter = new RateLimiter({ perMinute: 1, now: createClock().now });

    expect(limiter.take('a').isAllowed).toBe(true);
    expect(limiter.take('b').isAllowed).toBe(true);
    expect(limiter.take('a').isAllowed).toBe(false);
  });

  it('full buckets pruned at maxKeys', () => {
    const clock = createClock();
    const limiter = new RateLimiter({ perMinute: 60, maxKeys: 10, now: clock.now });
    for (let i = 0; i < 10; i += 1) limiter.take(`key-${i}`);
    clock.advance(1000);

    limiter.take('new');

    expect(limiter.size).toBe(1);
  });

  it('oldest keys dropped when none full', () => {
    const limiter = new RateLimiter({ perMinute: 60, maxKeys: 10, now: createClock().now });
    for (let i = 0; i < 10; i += 1) limiter.take(`key-${i}`);

    limiter.take('new');

    expect(limiter.size).toBe(10);
    const kept = Array.from({ length: 60 }, () => limiter.take('key-9'));
    const dropped = Array.from({ length: 60 }, () => limiter.take('key-0'));
    expect(kept.filter((result) => result.isAllowed)).toHaveLength(59);
    expect(dropped.filter((result) => result.isAllowed)).toHaveLength(60);
  });

  it('clock moving back adds nothing', () => {
    const clock = createClock();
    const limiter = new RateLimiter({ perMinute: 1, now: clock.now });
    limiter.take('a');
    clock.advance(-60_000);

    expect(limiter.take('a').isAllowed).toBe(false);
  });

  it('invalid options name range', () => {
    expect(() => new RateLimiter({ perMinute: 0 })).toThrow(
      'perMinute must be an integer of at least 1, received 0',
    );
    expect(() => new RateLimiter({ perMinute: 5, maxKeys: 1.5 })).toThrow(
      'maxKeys must be an integer of at least 1, received 1.5',
    );
  });
});
