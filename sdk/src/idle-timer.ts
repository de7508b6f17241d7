import { listen } from './listen.js';

/** Maximum wait between two comparisons of the idle deadline with the clock, in ms. */
export const CHECK_INTERVAL_MS = 1000;

/** Phase of a session relative to its idle deadline. */
export type IdlePhase = 'active' | 'warning' | 'idle';

/** Inputs and callbacks of the idle timer. */
export interface IdleTimerEvents {
  /** Reads the latest activity in any tab (epoch ms) and the timeouts; undefined without a running session. */
  read(): { lastActivityAt: number; idleTimeoutMs: number; warningMs: number } | undefined;
  /**
   * Called in the warning phase each time the whole seconds left change: `remainingMs` is
   * the time left rounded up to whole seconds, so that every tab shows the same countdown.
   */
  onWarning(remainingMs: number, idleAt: number): void;
  /** Called when activity ends a warning before the deadline. */
  onDismiss(): void;
  /** Called once when the deadline passes; `idleAt` is lastActivityAt + idleTimeoutMs. */
  onIdle(idleAt: number): void;
}

/** Compares the wall clock to the idle deadline; see `startIdleTimer`. */
export interface IdleTimer {
  /** Runs one check now, unless the timer stopped. */
  check(): void;
  /** Starts over in the active phase, for a new session or after new activity. */
  reset(): void;
  stop(): void;
}

/**
 * Checks the deadline at least every CHECK_INTERVAL_MS and when the page becomes visible.
 * The phase comes from Date.now() against the last activity, never from counted ticks,
 * because timers stop while the computer sleeps, and Chrome runs them once a minute in
 * long-hidden pages. In the warning phase the checks fall on whole seconds before the
 * deadline, which every tab shares, so their countdowns tick together.
 */
export function startIdleTimer(events: IdleTimerEvents): IdleTimer {
  let phase: IdlePhase = 'active';
  let shownMs: number | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let isStopped = false;

  const check = () => {
    // After stop() no caller of check() may read or change the session.
    if (isStopped) return;

    const session = events.read();
    let delayMs = CHECK_INTERVAL_MS;

    if (session && phase !== 'idle') {
      const idleAt = session.lastActivityAt + session.idleTimeoutMs;
      const leftMs = idleAt - Date.now();
      const warningLeftMs = leftMs - session.warningMs;

      if (leftMs <= 0) {
        phase = 'idle';
        events.onIdle(idleAt);
      } else if (warningLeftMs <= 0) {
        const remainingMs = Math.ceil(leftMs / 1000) * 1000;

        phase = 'warning';
        if (remainingMs !== shownMs) events.onWarning((shownMs = remainingMs), idleAt);
        delayMs = leftMs % 1000 || 1000;
      } else {
        if (phase === 'warning') events.onDismiss();
        phase = 'active';
        shownMs = undefined;
        delayMs = Math.min(delayMs, warningLeftMs);
      }
    }
    clearTimeout(timer);
    timer = setTimeout(check, delayMs);
  };
  const stopListening = listen(document, 'visibilitychange', check);
  timer = setTimeout(check, CHECK_INTERVAL_MS);

  return {
    check,
    reset() {
      phase = 'active';
      shownMs = undefined;
    },
    stop() {
      isStopped = true;
      clearTimeout(timer);
      stopListening();
    },
  };
}
