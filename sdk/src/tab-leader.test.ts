import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { electLeader } from './tab-leader.js';

describe('electLeader lease', () => {
  const resigns: (() => void)[] = [];

  beforeEach(() => {
    // happy-dom has no Web Locks, so the localStorage lease leads, as in old Safari.
    expect(navigator.locks ?? undefined).toBeUndefined();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    localStorage.clear();
  });

  afterEach(() => {
    resigns.splice(0).forEach((resign) => resign());
    vi.useRealTimers();
  });

  function elect(instanceId: string) {
    const changes: boolean[] = [];
    resigns.push(electLeader('shop', instanceId, (isLeader) => changes.push(isLeader)));

    return changes;
  }

  it('elects first tab only', () => {
    const first = elect('tab-a');
    const second = elect('tab-b');
    vi.advanceTimersByTime(10_000);

    expect(first).toEqual([true]);
    expect(second).toEqual([]);
  });

  it('passes lead on resign', () => {
    const first = elect('tab-a');
    const second = elect('tab-b');

    resigns[0]!();
    vi.advanceTimersByTime(2000);

    expect(first).toEqual([true, false]);
    expect(second).toEqual([true]);
  });

  it('takes over expired lease', () => {
    // A frozen or crashed leader left its lease behind and no longer renews it.
    localStorage.setItem('ps:shop:leader', JSON.stringify({ owner: 'frozen-tab', expiresAt: Date.now() + 6000 }));
    const second = elect('tab-b');

    vi.advanceTimersByTime(4000);
    expect(second).toEqual([]);

    vi.advanceTimersByTime(2000);
    expect(second).toEqual([true]);
  });

  it('claims at once when lease released', () => {
    const first = elect('tab-a');
    const second = elect('tab-b');

    // Resigning removes the lease; other tabs get a storage event for it at once.
    resigns[0]!();
    window.dispatchEvent(new StorageEvent('storage', { key: 'ps:shop:leader', newValue: null }));

    expect(first).toEqual([true, false]);
    expect(second).toEqual([true]);
  });

  it('steps down when lease taken', () => {
    const first = elect('tab-a');

    // Two tabs claimed at the same moment and the other tab's write came last.
    const lease = JSON.stringify({ owner: 'tab-b', expiresAt: Date.now() + 6000 });
    localStorage.setItem('ps:shop:leader', lease);
    window.dispatchEvent(new StorageEvent('storage', { key: 'ps:shop:leader', newValue: lease }));

    expect(first).toEqual([true, false]);
  });
});
