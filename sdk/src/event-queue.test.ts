import { afterEach, describe, expect, it, vi } from 'vitest';
import { createEventQueue, type QueuedEvent } from './event-queue.js';

function item(sessionId: string, index: number): QueuedEvent {
  const event = { id: `evt_${String(index).padStart(8, '0')}`, type: 'custom' as const, ts: index, data: { name: 'n' } };

  return { sessionId, tabId: 'tab_0001', event, order: 0 };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('event queue', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('falls back to memory without IndexedDB', async () => {
    // happy-dom has no indexedDB, like some private windows and WebViews.
    expect(typeof indexedDB).toBe('undefined');
    const errors: unknown[] = [];
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    const queue = createEventQueue('shop', (error) => errors.push(error));

    try {
      queue.push(item('session_a', 1));
      queue.push(item('session_a', 2));
      await settle();

      expect(queue.isShared()).toBe(false);
      expect(queue.own().map((entry) => entry.event.id)).toEqual(['evt_00000001', 'evt_00000002']);
      // The first push fails, the database is opened again once, and that fails too.
      expect(errors).toHaveLength(2);
      expect((await queue.readAll()).map((entry) => entry.event.id)).toEqual(['evt_00000001', 'evt_00000002']);
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  it('survives throwing IndexedDB open', async () => {
    vi.stubGlobal('indexedDB', {
      open() {
        throw new DOMException('The user denied permission to access the database.', 'SecurityError');
      },
    });
    const errors: unknown[] = [];
    const queue = createEventQueue('shop', (error) => errors.push(error));

    queue.push(item('session_a', 1));
    queue.remove(['evt_00000001']);
    await settle();

    expect(queue.own()).toEqual([]);
    expect(errors.map((error) => (error as DOMException).name)).toEqual(['SecurityError', 'SecurityError']);
  });

  it('gives up on hanging IndexedDB', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    // Some Safari versions never settle an open request.
    vi.stubGlobal('indexedDB', { open: () => ({}) });
    const errors: unknown[] = [];
    const queue = createEventQueue('shop', (error) => errors.push(error));

    try {
      queue.push(item('session_a', 1));
      await vi.advanceTimersByTimeAsync(10_000);

      expect(errors.map((error) => (error as Error).message)).toEqual([
        'IndexedDB timed out after 5000 ms',
        'IndexedDB timed out after 5000 ms',
      ]);
      expect(queue.isShared()).toBe(false);
      expect(queue.own()).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps push order', () => {
    const queue = createEventQueue('shop', () => {});
    const items = [item('session_a', 3), item('session_b', 1), item('session_a', 2)];
    items.forEach((entry) => queue.push(entry));

    expect(queue.own()).toEqual(items);
    expect(items[0]!.order).toBeLessThan(items[1]!.order);
    expect(items[1]!.order).toBeLessThan(items[2]!.order);
  });

  it('removes and clears events', () => {
    const queue = createEventQueue('shop', () => {});
    queue.push(item('session_a', 1));
    queue.push(item('session_a', 2));
    queue.push(item('session_a', 3));

    queue.remove(['evt_00000002'], true);
    expect(queue.own().map((entry) => entry.event.id)).toEqual(['evt_00000001', 'evt_00000003']);

    queue.clear();
    expect(queue.own()).toEqual([]);
  });
});
