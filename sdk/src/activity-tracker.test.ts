import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ActivityKind } from '../../shared/src/index.js';
import { trackActivity, type ActivityTracker } from './activity-tracker.js';

const START = Date.UTC(2026, 0, 5, 9, 0, 0);

describe('trackActivity', () => {
  let tracker: ActivityTracker;
  let inputs: [ActivityKind, number][];
  let windows: [ActivityKind, number, number][];

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(START);
    inputs = [];
    windows = [];
    tracker = trackActivity({
      onInput: (kind, at) => inputs.push([kind, at]),
      onWindow: (kind, firstAt, count) => windows.push([kind, firstAt, count]),
    });
  });

  afterEach(() => {
    tracker.stop();
    vi.useRealTimers();
  });

  /** Runs timers up to `offsetMs` after START, then dispatches `type` on window. */
  function inputAt(offsetMs: number, type = 'pointermove') {
    vi.advanceTimersByTime(START + offsetMs - Date.now());
    window.dispatchEvent(new Event(type));
  }

  it('throttles inputs per kind', () => {
    inputAt(0);
    inputAt(50);
    inputAt(60, 'keydown');
    inputAt(199);
    inputAt(200);
    inputAt(350);
    inputAt(401);

    expect(inputs).toEqual([
      ['pointer', START],
      ['key', START + 60],
      ['pointer', START + 200],
      ['pointer', START + 401],
    ]);
  });

  it('coalesces window of five seconds', () => {
    inputAt(0);
    inputAt(300);
    inputAt(600);
    inputAt(1000, 'wheel');
    inputAt(4900);
    vi.advanceTimersByTime(99);
    expect(windows).toEqual([]);

    vi.advanceTimersByTime(1);
    inputAt(5200);
    vi.advanceTimersByTime(6000);

    expect(windows).toEqual([
      ['pointer', START, 4],
      ['scroll', START + 1000, 1],
      ['pointer', START + 5200, 1],
    ]);
  });

  it('drains open windows at once', () => {
    inputAt(0, 'touchstart');
    inputAt(300, 'touchmove');

    tracker.drain();

    expect(windows).toEqual([['touch', START, 2]]);
  });

  it('maps every input kind', () => {
    const events: [string, EventTarget][] = [
      ['pointerdown', window],
      ['keydown', document.body],
      ['wheel', document],
      ['touchstart', window],
    ];
    for (const [type, target] of events) target.dispatchEvent(new Event(type, { bubbles: true }));

    expect(inputs.map(([kind]) => kind)).toEqual(['pointer', 'key', 'scroll', 'touch']);
  });

  it('ignores focus, visibility and scroll', () => {
    // All three also happen without the user: on wake-up, or when a script scrolls.
    window.dispatchEvent(new Event('focus'));
    document.dispatchEvent(new Event('visibilitychange'));
    document.dispatchEvent(new Event('scroll'));

    expect(inputs).toEqual([]);
  });

  it('sees input a page stops', () => {
    const button = document.createElement('button');
    document.body.append(button);
    button.addEventListener('keydown', (event) => event.stopPropagation());

    button.dispatchEvent(new Event('keydown', { bubbles: true }));
    button.remove();

    expect(inputs.map(([kind]) => kind)).toEqual(['key']);
  });

  it('stops listening after stop', () => {
    tracker.stop();
    inputAt(0, 'keydown');

    expect(inputs).toEqual([]);
  });
});
