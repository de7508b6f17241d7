import { afterEach, describe, expect, it, vi } from 'vitest';
import { createEventQueue, type QueuedEvent } from './event-queue.js';

function item(sessionId: string, tabId: string, index: number): QueuedEvent {
  const event = { id: `evt_${String(index).padStart(8, '0')}`, type: 'custom' as const, ts: index, data: { name: 'n' } };

  return { sessionId, tabId, event, savedAt: index };
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
    const queue = createEventQueue((error) => errors.push(error));

    queue.push(item('session_a', 'tab_0001', 1));
    queue.push(item('session_a', 'tab_0001', 2));
    await settle();

    expect(queue.size()).toBe(2);
    expect(errors).toHaveLength(1);
    expect(await queue.recover(() => true)).toBe(0);
  });

  it('survives throwing IndexedDB open', async () => {
    vi.stubGlobal('indexedDB', {
      open() {
        throw new DOMException('The user denied permission to access the database.', 'SecurityError');
      },
    });
    const errors: unknown[] = [];
    const queue = createEventQueue((error) => errors.push(error));

    queue.push(item('session_a', 'tab_0001', 1));
    queue.remove([item('session_a', 'tab_0001', 1)]);
    await settle();

    expect(queue.size()).toBe(0);
    expect((errors[0] as DOMException).name).toBe('SecurityError');
  });

  it('batches by session and tab', () => {
    const queue = createEventQueue(() => {});
    const items = [
      item('session_a', 'tab_0001', 1),
      item('session_b', 'tab_0001', 2),
      item('session_a', 'tab_0001', 3),
      item('session_a', 'tab_0002', 4),
      item('session_a', 'tab_0001', 5),
    ];
    items.forEach((entry) => queue.push(entry));

    expect(queue.peekBatch(10)).toEqual([items[0], items[2], items[4]]);
    expect(queue.peekBatch(2)).toEqual([items[0], items[2]]);
  });

  it('drops one session only', () => {
    const queue = createEventQueue(() => {});
    const kept = item('session_b', 'tab_0001', 2);
    queue.push(item('session_a', 'tab_0001', 1));
    queue.push(kept);
    queue.push(item('session_a', 'tab_0001', 3));

    queue.dropSession('session_a');

    expect(queue.takeAll()).toEqual([kept]);
    expect(queue.size()).toBe(0);
  });
});
