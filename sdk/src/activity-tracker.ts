import type { ActivityKind } from '../../shared/src/index.js';

/** Inputs of one kind closer together than this are counted once, in ms. */
export const THROTTLE_MS = 200;
/** Inputs of one kind within this window after the first become one `activity` event, in ms. */
export const COALESCE_MS = 5000;

/** DOM events that count as input, by the activity kind they report. */
const INPUT_EVENTS: [string, ActivityKind, 'window' | 'document'][] = [
  ['pointerdown', 'pointer', 'window'],
  ['pointermove', 'pointer', 'window'],
  ['keydown', 'key', 'window'],
  ['wheel', 'scroll', 'window'],
  // Scroll does not bubble, but a capturing listener on document sees every scroller.
  ['scroll', 'scroll', 'document'],
  ['touchstart', 'touch', 'window'],
  ['touchmove', 'touch', 'window'],
  ['visibilitychange', 'visibility', 'document'],
  ['focus', 'focus', 'window'],
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
  const windows = new Map<ActivityKind, { firstAt: number; count: number; timer: ReturnType<typeof setTimeout> }>();

  const close = (kind: ActivityKind) => {
    const open = windows.get(kind);

    if (!open) return;
    clearTimeout(open.timer);
    windows.delete(kind);
    events.onWindow(kind, open.firstAt, open.count);
  };
  const count = (kind: ActivityKind) => {
    const now = Date.now();

    if (now - (lastCountedAt.get(kind) ?? -Infinity) < THROTTLE_MS) return;
    lastCountedAt.set(kind, now);
    events.onInput(kind, now);

    const open = windows.get(kind);
    if (open) open.count += 1;
    else windows.set(kind, { firstAt: now, count: 1, timer: setTimeout(() => close(kind), COALESCE_MS) });
  };
  const listeners = INPUT_EVENTS.map(([type, kind, target]) => {
    const listener = () => {
      if (type !== 'visibilitychange' || document.visibilityState === 'visible') count(kind);
    };
    // Capturing sees input even when the page stops its propagation. Focus is not captured
    // because element focus events would then count too; only the window's focus should.
    const options = { capture: type !== 'focus', passive: true };
    (target === 'window' ? window : document).addEventListener(type, listener, options);

    return () => (target === 'window' ? window : document).removeEventListener(type, listener, options);
  });

  return {
    drain: () => windows.forEach((_, kind) => close(kind)),
    stop() {
      listeners.forEach((remove) => remove());
      windows.forEach((open) => clearTimeout(open.timer));
      windows.clear();
    },
  };
}
