import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startIdleTimer, type IdleTimer } from './idle-timer.js';

const START = Date.UTC(2026, 0, 5, 9, 0, 0);
const IDLE_TIMEOUT_MS = 60_000;
const WARNING_MS = 10_000;

/** Calls of one idle timer, with the clock offset from START at each. */
interface Calls {
  warnings: [number, number][];
  dismissals: number[];
  idles: number[];
}

describe('idle timer', () => {
  const timers: IdleTimer[] = [];
  let lastActivityAt: number;

  /** Starts a timer that reads the shared `lastActivityAt`, as each tab's timer does. */
  const startTimer = () => {
    const calls: Calls = { warnings: [], dismissals: [], idles: [] };
    timers.push(
      startIdleTimer({
        read: () => ({ lastActivityAt, idleTimeoutMs: IDLE_TIMEOUT_MS, warningMs: WARNING_MS }),
        onWarning: (remainingMs) => calls.warnings.push([Date.now() - START, remainingMs]),
        onDismiss: () => calls.dismissals.push(Date.now() - START),
        onIdle: (idleAt) => calls.idles.push(idleAt - START),
      }),
    );

    return calls;
  };

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(START);
    lastActivityAt = START;
  });

  afterEach(() => {
    timers.splice(0).forEach((timer) => timer.stop());
    vi.useRealTimers();
  });

  it('idles by wall clock after sleep', () => {
    const calls = startTimer();

    // Asleep, no timer runs while the clock moves on; the first check on waking decides.
    vi.setSystemTime(START + 5 * IDLE_TIMEOUT_MS);
    vi.advanceTimersByTime(1000);

    expect(calls.warnings).toEqual([]);
    expect(calls.idles).toEqual([IDLE_TIMEOUT_MS]);
  });

  it('idles on time with throttled timers', () => {
    const calls = startTimer();

    // Chrome runs timers of long-hidden pages once a minute: the deadline still holds.
    vi.setSystemTime(START + IDLE_TIMEOUT_MS + 59_000);
    vi.advanceTimersByTime(1000);

    expect(calls.idles).toEqual([IDLE_TIMEOUT_MS]);
  });

  it('counts down alike in every tab', () => {
    const first = startTimer();
    // A second tab starts 370 ms later, so its timer runs at another phase.
    vi.advanceTimersByTime(370);
    const second = startTimer();

    vi.advanceTimersByTime(IDLE_TIMEOUT_MS);

    const expected = Array.from({ length: 10 }, (_, index) => [50_000 + index * 1000, 10_000 - index * 1000]);
    expect(first.warnings).toEqual(expected);
    expect(second.warnings).toEqual(expected);
    expect(first.idles).toEqual([IDLE_TIMEOUT_MS]);
    expect(second.idles).toEqual([IDLE_TIMEOUT_MS]);
  });

  it('dismisses warning on activity', () => {
    const calls = startTimer();
    vi.advanceTimersByTime(52_500);

    // Input in any tab moves the shared last activity; the next check ends the warning.
    lastActivityAt = Date.now();
    vi.advanceTimersByTime(1000);

    expect(calls.warnings.map(([, remainingMs]) => remainingMs)).toEqual([10_000, 9000, 8000]);
    expect(calls.dismissals).toEqual([53_000]);
    expect(calls.idles).toEqual([]);
  });

  it('checks when page becomes visible', () => {
    const calls = startTimer();
    vi.setSystemTime(START + IDLE_TIMEOUT_MS + 1);

    document.dispatchEvent(new Event('visibilitychange'));

    expect(calls.idles).toEqual([IDLE_TIMEOUT_MS]);
  });
});
