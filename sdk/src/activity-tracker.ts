import type { ActivityKind } from '../../shared/src/index.js';
import { listen } from './listen.js';

/** Inputs of one kind closer together than this are counted once, in ms. */
export const THROTTLE_MS = 200;
/**
 * Inputs within this window after the first input of any kind become one `activity` event
 * per kind, in ms. One timer closes every open window at once.
 */
export const COALESCE_MS = 5000;

/**
 * DOM events that count as input, by the activity kind they report. Focus and a page
 * becoming visible are not input, because they also happen when the computer wakes up,
 * and neither is `scroll`, which scripts cause too.
 */
const INPUT_EVENTS: [string, ActivityKind][] = [
  ['pointerdown', 'pointer'],
  ['pointermove', 'pointer'],
  ['keydown', 'key'],
  ['wheel', 'scroll'],
  ['touchstart', 'touch'],
  ['touchmove', 'touch'],
];

/** Callbacks of the activity tracker. */
export interface ActivityEvents {
  /** A counted input, at most one per kind every THROTTLE_MS; `at` is epoch ms. */
  onInput(kind: ActivityKind, at: number): void;
  /** A closed window of inputs of one kind, starting at `firstAt`. */
  onWindow(kind: ActivityKind, firstAt: number, count: number): void;
}

/** Listens for user input; `drain()` closes every open window at once, `stop()` also detaches. */
export interface ActivityTracker {
  drain(): void;
  stop(): void;
}

/** Starts passive listeners for every input kind. */
export function trackActivity(events: ActivityEvents): ActivityTracker {
  const lastCountedAt = new Map<ActivityKind, number>();
  const windows = new Map<ActivityKind, { firstAt: number; count: number }>();
  let timer: ReturnType<typeof setTimeout> | undefined;

  const drain = () => {
    clearTimeout(timer);
    timer = undefined;
    windows.forEach((open, kind) => events.onWindow(kind, open.firstAt, open.count));
    windows.clear();
  };
  const count = (kind: ActivityKind) => {
    const now = Date.now();
    const open = windows.get(kind);

    if (now - (lastCountedAt.get(kind) ?? -Infinity) < THROTTLE_MS) return;
    lastCountedAt.set(kind, now);
    events.onInput(kind, now);
    if (open) open.count += 1;
    else windows.set(kind, { firstAt: now, count: 1 });
    timer ??= setTimeout(drain, COALESCE_MS);
  };
  // Capturing on window receives input even when the page stops its propagation.
  const options = { capture: true, passive: true };
  const listeners = INPUT_EVENTS.map(([type, kind]) => listen(window, type, () => count(kind), options));

  return {
    drain,
    stop() {
      listeners.forEach((remove) => remove());
      clearTimeout(timer);
      windows.clear();
    },
  };
}
